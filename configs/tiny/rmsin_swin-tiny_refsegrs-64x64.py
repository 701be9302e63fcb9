# Tiny RMSIN for tests and CPU demos: the tiny setting of
# lgce_swin-tiny_refsegrs-64x64.py (Swin with 32 channels, a 2-layer BERT
# with random weights and the packaged vocabulary, 64x64, batch 2) with
# RMSIN's fusion, CIM neck (grid 2x2 = the last stage at 64x64; the
# attention narrowed), rotated decoder and loss. Nothing is downloaded.
_base_ = ['./lgce_swin-tiny_refsegrs-64x64.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        fusion_cfg=dict(
            type='RMSINFusion', gate_init='trunc_normal',
            norm_cfg=norm_cfg)),
    neck=dict(
        _delete_=True,
        type='CrossScaleInteraction',
        in_channels=[32, 64, 128, 256],
        grid_size=2,
        key_dims=8,
        num_heads=2,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='RotatedDecodeHead',
        loss_decode=[
            dict(
                type='WeightedCrossEntropyLoss',
                class_weight=[0.9, 1.1],
                loss_weight=0.9),
            dict(type='SoftmaxDiceLoss', loss_weight=0.1)
        ]))
