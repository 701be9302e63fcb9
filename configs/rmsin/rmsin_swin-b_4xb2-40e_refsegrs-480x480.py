# RMSIN on RefSegRS, the recipe of rmsin_swin-b_4xb2-40e_rrsisd-480x480.py
# (RMSIN's train.py) on the RRSIS paper's dataset.
_base_ = [
    '../_base_/models/rmsin_swin-b.py', '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (480, 480)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='RandomBoxes', prob=0.2, num_boxes=(20, 60), box_size=32),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=3e-5))
randomness = dict(seed=2401)
