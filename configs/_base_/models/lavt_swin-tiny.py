# A tiny LAVT for tests and CPU demos: Swin with 32 channels and one block
# per stage, a 2-layer BERT (hidden 32) with random weights and the
# vocabulary that ships with mmrrsis. Nothing is downloaded.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='RRSISDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=32)
model = dict(
    type='RRSISEncoderDecoder',
    data_preprocessor=data_preprocessor,
    text_encoder=dict(
        type='BertTextEncoder',
        pretrained=None,
        bert_config=dict(
            vocab_size=512,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64),
        vocab='mmrrsis-tiny',
        max_tokens=20,
        padding='max_length',
        # like LAVT's recipe: embeddings and the last layer frozen
        freeze_embeddings=True,
        frozen_layers=[-1]),
    backbone=dict(
        type='LanguageAwareSwin',
        pretrain_img_size=64,
        embed_dims=32,
        patch_size=4,
        window_size=4,
        mlp_ratio=4,
        depths=[1, 1, 1, 1],
        num_heads=[1, 2, 4, 8],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        fusion_cfg=dict(type='PWAMFusion', text_channels=32)),
    decode_head=dict(
        type='ReferringDecodeHead',
        in_channels=[32, 64, 128, 256],
        channels=64,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=True),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
