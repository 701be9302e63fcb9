# The FIANet twin of synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py
# (configs/lgce_synthetic.py): the same data, budget, seed, schedule and
# loss (CE + per-expression Dice), with FIANet's architecture: three BERT
# passes (whole expression, object words, spatial phrase), its fusion (PWAM
# + object-position alignment + channel weighting) and TMEM neck (grid 4x4 =
# the last stage at 128x128). The object words and spatial phrases are
# tagged with the generator's lexicon (no NLTK data needed). Out of the box
# on a CPU, nothing downloaded.
_base_ = ['../synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
channels = [32, 64, 128, 256]
text_channels = 64
img_scale = (128, 128)
model = dict(
    text_encoder=dict(type='PhraseBertTextEncoder'),
    backbone=dict(
        fusion_cfg=dict(type='FIANetFusion', gate_init='trunc_normal')),
    neck=dict(
        _delete_=True,
        type='TextAwareMultiScaleEnhancement',
        in_channels=channels,
        text_channels=text_channels,
        num_blocks=1,
        norm_cfg=dict(type='BN', requires_grad=True)))
phrases = dict(
    type='ObjectPositionPhrases',
    classes='refsegrs',
    lexicon='synthetic',
    sentence_split=False)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    phrases,
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    phrases,
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
