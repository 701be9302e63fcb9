# LAVT on mmpretrain's Swin Transformer V2-B: the recipe and the model of
# configs/lavt_swin-b.py (BERT-base, PWAM + gate after every stage, LAVT's
# decoder, AdamW 5e-5, 40 epochs, 4 GPUs x batch 8, 480x480) with the Swin
# replaced by mmpretrain.SwinTransformerV2 (arch 'base': 128 channels,
# depths 2-2-18-2), run unchanged under LanguageAwareBackbone. SwinV2 opens
# each stage with its patch merging; the fusion still comes after a
# stage's blocks and before the next merging.
# Weights: mmpretrain's ImageNet-21k SwinV2-B, window 12 at 192 px (model
# index name swinv2-base-w12_3rdparty_in21k-192px; the counterpart of
# LAVT's ImageNet-22k Swin-B window 12), keys under 'backbone.'. Window 12
# in every stage at 480 px (120, 60, 30, 15 tokens a side; maps are padded
# to whole windows); the continuous position bias is scaled from the
# pretrained windows (12, 12, 12, 6). Check the files before a run:
# python tools/misc/check_weights.py THIS_CONFIG
_base_ = ['../lavt/lavt_swin-b_4xb8-40e_refsegrs-480x480.py']
swinv2_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/swin-v2/pretrain/swinv2-base-w12_3rdparty_in21k-192px_20220803-f7dc9763.pth'  # noqa: E501
model = dict(
    backbone=dict(
        _delete_=True,
        type='LanguageAwareBackbone',
        encoder=dict(
            type='mmpretrain.SwinTransformerV2',
            arch='base',
            img_size=480,
            window_size=12,
            pretrained_window_sizes=[12, 12, 12, 6],
            drop_path_rate=0.3,
            pad_small_map=True,
            out_indices=(0, 1, 2, 3),
            init_cfg=dict(
                type='Pretrained',
                checkpoint=swinv2_checkpoint,
                prefix='backbone.')),
        fusion_cfg=dict(
            type='PWAMFusion',
            text_channels=768,
            num_heads=1,
            dropout=0.,
            gate_init='zeros')))
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
