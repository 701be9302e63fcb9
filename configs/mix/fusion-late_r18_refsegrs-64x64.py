# mmrrsis components inside a plain mmseg model, in an mmseg-scope config:
# ResNet-18 (ResNetV1c) with LAVT's pixel-word fusion applied late, on its
# four outputs, and LAVT's decoder. Our types carry the 'mmrrsis.' prefix;
# custom_imports registers them. The model is tiny (random 2-layer BERT with
# the packaged vocabulary), so it builds offline; paste `model` into any
# mmseg training config (with a dataset whose samples carry
# metainfo['text']).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='mmrrsis.RRSISEncoderDecoder',
    data_preprocessor=data_preprocessor,
    text_encoder=dict(
        type='mmrrsis.BertTextEncoder',
        pretrained=None,
        bert_config=dict(
            vocab_size=512,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64),
        vocab='mmrrsis-tiny',
        max_tokens=20),
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        style='pytorch'),
    neck=dict(
        type='mmrrsis.LAVTFusionNeck',
        in_channels=[64, 128, 256, 512],
        text_channels=32,
        # late fusion outputs the gated maps: the gates must be open
        gate_init='default'),
    decode_head=dict(
        type='mmrrsis.ReferringDecodeHead',
        in_channels=[64, 128, 256, 512],
        channels=64,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=True),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
