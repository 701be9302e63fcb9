# LAVT (Yang et al., CVPR 2022) as used by the RRSIS paper: Swin-B
# (window 12, ImageNet-22k 384 weights) with pixel-word attention fusion
# in every stage, BERT-base, progressive decoder.
# Parameters: 227,739,514 (Swin-B 86,880,376 + PWAMs and gates 11,316,480
# + decoder 20,651,010 + BERT without pooler 108,891,648).
norm_cfg = dict(type='SyncBN', requires_grad=True)
# mmseg's pre-converted Swin-B ImageNet-22k 384 checkpoint (mmseg layout)
swin_checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_base_patch4_window12_384_22k_20220317-e5c09f74.pth'  # noqa: E501
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
        pretrained='bert-base-uncased',
        max_tokens=20,
        padding='max_length',
        # as the LAVT/RRSIS loaders: add [CLS]/[SEP], then cut to 20 ids
        # (an expression of more than 18 word pieces loses [SEP])
        truncation='reference',
        # LAVT optimises BERT layers 0-9 only and never switches BERT to
        # train mode (no dropout)
        freeze_embeddings=True,
        frozen_layers=[10, 11],
        eval_mode=True),
    backbone=dict(
        type='LanguageAwareSwin',
        pretrain_img_size=384,
        embed_dims=128,
        patch_size=4,
        window_size=12,
        mlp_ratio=4,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        strides=(4, 2, 2, 2),
        out_indices=(0, 1, 2, 3),
        qkv_bias=True,
        qk_scale=None,
        patch_norm=True,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.3,
        use_abs_pos_embed=False,
        act_cfg=dict(type='GELU'),
        norm_cfg=dict(type='LN', requires_grad=True),
        fusion_cfg=dict(
            type='PWAMFusion',
            text_channels=768,
            num_heads=1,
            dropout=0.,
            gate_init='zeros'),
        init_cfg=dict(type='Pretrained', checkpoint=swin_checkpoint)),
    decode_head=dict(
        type='ReferringDecodeHead',
        in_channels=[128, 256, 512, 1024],
        channels=512,
        num_convs=2,
        num_classes=2,
        dropout_ratio=0.,
        norm_cfg=norm_cfg,
        align_corners=True,
        # LAVT's loss: torch's class-weighted mean cross-entropy
        loss_decode=dict(
            type='WeightedCrossEntropyLoss',
            class_weight=[0.9, 1.1],
            loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
