# Tiny DiCoR for tests and CPU demos, stage 1 of 4 (coarse: LAVT + VMSF):
# the tiny setting of lgce_swin-tiny_refsegrs-64x64.py (Swin with 32
# channels, a 2-layer BERT with random weights and the packaged vocabulary,
# 64x64, batch 2) with DiCoR's VMSF neck (1 block) and loss. Snapshots after
# epochs 1 and 2 feed the prompt bank. Nothing is downloaded.
_base_ = ['./lgce_swin-tiny_refsegrs-64x64.py']
norm_cfg = dict(type='BN', requires_grad=True)
channels = [32, 64, 128, 256]
model = dict(
    type='DiCoREncoderDecoder',
    stage='coarse',
    backbone=dict(fusion_cfg=dict(gate_init='trunc_normal')),
    neck=dict(
        _delete_=True,
        type='VMSFNeck',
        in_channels=channels,
        num_blocks=1,
        num_heads=8,
        norm_cfg=norm_cfg),
    decode_head=dict(loss_decode=[
        dict(
            type='WeightedCrossEntropyLoss',
            class_weight=[0.9, 1.1],
            loss_weight=1.0),
        dict(type='SoftmaxDiceLoss', reduction='mean', loss_weight=1.0)
    ]),
    test_cfg=dict(mode='whole', refine=True))
custom_hooks = [
    dict(type='EpochSnapshotHook', epochs=[1, 2]),
    dict(type='BestCheckpointLinkHook'),
]
