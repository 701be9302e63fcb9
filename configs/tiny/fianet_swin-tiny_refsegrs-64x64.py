# Tiny FIANet for tests and CPU demos: the tiny setting of
# lgce_swin-tiny_refsegrs-64x64.py (Swin with 32 channels, a 2-layer BERT
# with random weights and the packaged vocabulary, 64x64, batch 2) with
# FIANet's three BERT passes, fusion, TMEM neck and loss. The object words
# and spatial phrases are tagged with the generated data's lexicon, so no
# NLTK data is needed. Nothing is downloaded.
_base_ = ['./lgce_swin-tiny_refsegrs-64x64.py']
norm_cfg = dict(type='BN', requires_grad=True)
img_scale = (64, 64)
model = dict(
    text_encoder=dict(type='PhraseBertTextEncoder'),
    backbone=dict(
        fusion_cfg=dict(type='FIANetFusion', gate_init='trunc_normal')),
    neck=dict(
        _delete_=True,
        type='TextAwareMultiScaleEnhancement',
        in_channels=[32, 64, 128, 256],
        text_channels=32,
        num_blocks=1,
        norm_cfg=norm_cfg),
    decode_head=dict(loss_decode=[
        dict(
            type='WeightedCrossEntropyLoss',
            class_weight=[0.9, 1.1],
            loss_weight=0.9),
        dict(type='SoftmaxDiceLoss', loss_weight=0.1)
    ]))
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
