# The RMSIN twin of synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py
# (configs/lgce_synthetic.py): the same data, budget, seed, schedule and
# loss (CE + per-expression Dice), with RMSIN's architecture: its fusion
# (PWAM + intra-scale interaction), CIM neck (grid 4x4 = the last stage at
# 128x128) and rotated decoder. Out of the box on a CPU, nothing downloaded.
_base_ = ['../synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
norm_cfg = dict(type='BN', requires_grad=True)
channels = [32, 64, 128, 256]
model = dict(
    backbone=dict(
        fusion_cfg=dict(
            type='RMSINFusion', gate_init='trunc_normal',
            norm_cfg=norm_cfg)),
    neck=dict(
        _delete_=True,
        type='CrossScaleInteraction',
        in_channels=channels,
        grid_size=4,
        key_dims=16,
        num_heads=4,
        norm_cfg=norm_cfg),
    decode_head=dict(type='RotatedDecodeHead'))
