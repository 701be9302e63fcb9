# The LSCM twin of synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py
# (configs/lgce_synthetic.py): the same generated data, budget, schedule,
# optimiser and seed, with LSCM's architecture at small widths: a ResNet-18
# with 32 base channels (DeepLab's strides and dilations, output stride 8,
# trained from scratch), a 64-unit LSTM on the packaged word vocabulary,
# LSCMHead at 64 channels, the parses from the rule parser (the generated
# expressions are noun phrases it reads). Loss: as the LGCE twin, a mean
# cross-entropy (sigmoid here: one logit) next to a per-expression Dice,
# on the final and (x 0.1) the level maps. Out of the box on a CPU.
_base_ = ['../synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
norm_cfg = dict(type='BN', requires_grad=True)
channels = [32, 64, 128, 256]
width = 64
model = dict(
    _delete_=True,
    type='RRSISEncoderDecoder',
    data_preprocessor=dict(
        type='RRSISDataPreProcessor',
        mean=[104.00698793, 116.66876762, 122.67891434],
        std=[1., 1., 1.],
        bgr_to_rgb=False,
        pad_val=0,
        seg_pad_val=255,
        size_divisor=8),
    text_encoder=dict(
        type='LSTMTextEncoder',
        vocab='mmrrsis-tiny-words',
        embed_dims=width,
        hidden_dims=width,
        max_tokens=30,
        sentence='max',
        use_parse=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=32,
        base_channels=32,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False),
    decode_head=dict(
        type='LSCMHead',
        in_channels=channels,
        channels=width,
        vis_channels=width,
        text_channels=width,
        # the fused grid at 128 x 128 (stride 8)
        feat_size=(16, 16),
        align_corners=False,
        loss_decode=[
            dict(type='BinaryLogisticLoss', reduction='mean'),
            dict(type='TargetDiceLoss', loss_weight=1.0)
        ]),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
img_scale = (128, 128)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parser='rules'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parser='rules'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
