# Tiny RSRefSeg2 for tests and CPU demos: _base_/models/rsrefseg2_tiny.py
# (SAM 2 / SigLIP towers of widths 8-64 with LoRA, random weights, the
# packaged vocabulary) on the RefSegRS layout at 64 x 64, batch 2, two
# epochs. Nothing is downloaded. The default runner (DDP); tools/train.py
# --strategy fsdp trains it with FSDP, on CPU processes too.
_base_ = [
    '../_base_/models/rsrefseg2_tiny.py', '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (64, 64)
train_gsd = 1.04
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
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
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=2)
# RSRefSeg2's optimizer and clipping, a larger lr for random weights
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=3.0))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=2,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(logger=dict(interval=1))
find_unused_parameters = True
