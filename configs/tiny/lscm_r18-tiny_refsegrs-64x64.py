# Tiny LSCM for tests and CPU demos: the RefSegRS setting of
# lgce_swin-tiny_refsegrs-64x64.py (64x64, batch 2) with LSCM's model at
# small widths: a ResNet-18 with 16 base channels (strides and dilations as
# DeepLab's, output stride 8, trained), a 32-unit LSTM on the packaged word
# vocabulary, LSCMHead at 32 channels; the parses from the rule parser.
# Nothing is downloaded.
_base_ = ['./lgce_swin-tiny_refsegrs-64x64.py']
norm_cfg = dict(type='BN', requires_grad=True)
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
        embed_dims=16,
        hidden_dims=32,
        max_tokens=30,
        sentence='max',
        use_parse=True),
    backbone=dict(
        type='ResNet',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False),
    decode_head=dict(
        type='LSCMHead',
        in_channels=[16, 32, 64, 128],
        channels=32,
        vis_channels=32,
        text_channels=32,
        feat_size=(8, 8),
        align_corners=False,
        loss_decode=dict(type='BinaryLogisticLoss', reduction='image_sum')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parser='rules'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parser='rules'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
