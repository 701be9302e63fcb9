# RefCOCO (UNC splits) in the refer layout; data_root is the refer "data"
# folder:
#   refcoco/refs(unc).p, refcoco/instances.json,
#   images/mscoco/images/train2014/*.jpg
# For RefCOCO+ use 'refcoco+/refs(unc).p', for RefCOCOg
# 'refcocog/refs(umd).p' (and their instances.json); RefCOCO also has the
# test splits 'testA' and 'testB'.
dataset_type = 'ReferDataset'
data_root = 'data/refcoco'
img_scale = (480, 480)

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

refer_files = dict(
    ann_file='refcoco/refs(unc).p',
    instances_file='refcoco/instances.json',
    data_prefix=dict(img_path='images/mscoco/images/train2014'))

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        text_mode='random',
        pipeline=train_pipeline,
        **refer_files))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        text_mode='all',
        pipeline=test_pipeline,
        **refer_files))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        text_mode='all',
        pipeline=test_pipeline,
        **refer_files))

val_evaluator = dict(type='RRSISMetric')
test_evaluator = val_evaluator
