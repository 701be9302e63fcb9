# Tiny DiCoR, stage 4 of 4: joint tuning with LVMSF (text <-> visual
# cross-attention), the guide reweighting the words, the refiner of stage 2
# inside (frozen). See
# configs/dicor/dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py.
_base_ = ['./dicor-guide_swin-tiny_refsegrs-64x64.py']
guide_dir = 'work_dirs/dicor-guide_swin-tiny_refsegrs-64x64'
refiner_dir = 'work_dirs/dicor-refiner_swin-tiny_refsegrs-64x64'
load_from = guide_dir + '/epoch_2.pth'
model = dict(
    stage='joint',
    localization_guide=dict(guide_text=True),
    neck=dict(
        _delete_=True,
        type='LVMSFNeck',
        in_channels=[32, 64, 128, 256],
        text_channels=32,
        num_blocks=1,
        num_heads=8,
        norm_cfg=dict(type='BN', requires_grad=True)),
    refiner=dict(
        type='RefineUNet',
        in_channels=4,
        base_channels=8,
        init_cfg=dict(
            type='SafePretrained',
            checkpoint=refiner_dir + '/best.pth',
            prefix='refiner.')),
    frozen=[
        'text_encoder', 'backbone', 'localization_guide.evidence_head',
        'localization_guide.ranker', 'refiner'
    ],
    test_cfg=dict(refine=False))
train_dataloader = dict(
    _delete_=True,
    batch_size={{_base_.train_dataloader.batch_size}},
    num_workers={{_base_.train_dataloader.num_workers}},
    persistent_workers={{_base_.train_dataloader.persistent_workers}},
    sampler={{_base_.train_dataloader.sampler}},
    dataset={{_base_.train_dataloader.dataset.dataset}})
optim_wrapper = dict(
    optimizer=dict(lr=1e-4, weight_decay=1e-2),
    paramwise_cfg=dict(
        _delete_=True,
        custom_keys={
            'localization_guide.text_norm':
            dict(lr_mult=10., decay_mult=0.01)
        }))
