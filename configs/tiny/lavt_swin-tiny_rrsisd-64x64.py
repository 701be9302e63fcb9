# Tiny LAVT on the RRSIS-D layout, for tests and CPU demos: the model of
# _base_/models/lavt_swin-tiny.py (nothing is downloaded), images and masks
# resized to 64x64 for training, one epoch, batch 2. Evaluation scores on
# each mask's own grid (the RRSIS-D images whose size differs from their
# mask are resampled to it, see configs/_base_/datasets/rrsisd.py).
_base_ = [
    '../_base_/models/lavt_swin-tiny.py', '../_base_/datasets/rrsisd.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomSentence'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=test_pipeline))
train_cfg = dict(max_epochs=1)
# a randomly initialised tiny model learns nothing at 5e-5
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=1,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1))
