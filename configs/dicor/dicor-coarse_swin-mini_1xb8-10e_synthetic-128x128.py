# DiCoR's synthetic twin, stage 1 of 4: the coarse model (LAVT + VMSF) on
# the data, budget, seed and loss of
# configs/synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py
# (configs/lgce_synthetic.py): out of the box on a CPU, nothing
# downloaded. Snapshots after epochs 3, 4, 5, 8 and 10 (the reference's
# 10/15/20/30/39 of 40, scaled) feed the prompt bank. All four stages in
# order: bash tools/misc/dicor_pipeline.sh synthetic
_base_ = ['../synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
channels = [32, 64, 128, 256]
model = dict(
    type='DiCoREncoderDecoder',
    stage='coarse',
    backbone=dict(fusion_cfg=dict(gate_init='trunc_normal')),
    neck=dict(
        _delete_=True,
        type='VMSFNeck',
        in_channels=channels,
        num_blocks=3,
        num_heads=8,
        norm_cfg=dict(type='BN', requires_grad=True)),
    test_cfg=dict(mode='whole', refine=True))
custom_hooks = [
    dict(type='EpochSnapshotHook', epochs=[3, 4, 5, 8, 10]),
    dict(type='BestCheckpointLinkHook'),
]
