# CMPC+ on RRSIS-D, the recipe of cmpc+_r101-d8_1xb1-700k_refsegrs-320x320.py;
# every sentence is its own training sample (the references' batches).
_base_ = [
    '../_base_/models/cmpc+_r101-d8.py', '../_base_/datasets/rrsisd.py',
    '../_base_/schedules/schedule_adam-700k.py',
    '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (320, 320)
model = dict(
    text_encoder=dict(
        vocab='data/rrsisd/vocabulary.txt',
        embeddings='data/rrsisd/glove_embeddings.npy'))
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(text_mode='all', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(
    logger=dict(interval=100, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100000))
log_processor = dict(by_epoch=False)
