# RefSegRS (SkyScapes aerial tiles, 512x512 TIFF; 2,172 / 431 / 1,817
# triplets). Layout under data_root:
#   images/<id>.tif, masks/<id>.tif, output_phrase_{train,val,test}.txt
# Generate a stand-in with the same layout:
#   python tools/dataset_converters/make_synthetic_refsegrs.py data/RefSegRS
# Masks are 0/255 TIFFs; a pixel is target when its value is > 50 (the
# authors' rule; RefSegRSDataset(mask_threshold=50)). A mask that rule would
# read wrongly (0/1, several channels, many levels) raises; the dataset's
# mask_check='lenient' reads it anyway with a warning.
dataset_type = 'RefSegRSDataset'
data_root = 'data/RefSegRS'
img_scale = (480, 480)

# the paper's recipe: resize image and mask to exactly 480x480 (mask
# nearest), no augmentation
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
# the mask is loaded after Resize, so it stays at the original resolution
# and predictions are scored there; to score at 480x480 as the reference
# code does, swap the two transforms
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='output_phrase_train.txt',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='output_phrase_val.txt',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='output_phrase_test.txt',
        data_prefix=dict(img_path='images', seg_map_path='masks'),
        pipeline=test_pipeline))

val_evaluator = dict(type='RRSISMetric')
test_evaluator = val_evaluator
