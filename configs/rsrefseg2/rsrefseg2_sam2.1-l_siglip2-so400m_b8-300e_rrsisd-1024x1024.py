# RSRefSeg2 on RRSIS-D with the reference's recipe
# (configs_RSRefSeg2/rrsisd_training.py): as on RefSegRS but lr 1e-4, 300
# epochs, cosine T_max 1.3 x 300 from epoch 30; every sentence is a
# training sample (the reference's datainfo lists one per sentence).
_base_ = [
    '../_base_/models/rsrefseg2_sam2.1-l_siglip2-so400m.py',
    '../_base_/datasets/rrsisd.py',
    '../_base_/schedules/schedule_rsrefseg2_600e.py',
    '../_base_/rsrefseg2_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (1024, 1024)
max_epochs = 300
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
    batch_size=8, dataset=dict(text_mode='all', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=int(1.3 * max_epochs),
        by_epoch=True,
        begin=int(0.1 * max_epochs),
        end=max_epochs,
        eta_min_ratio=0.01)
]
train_cfg = dict(max_epochs=max_epochs)
