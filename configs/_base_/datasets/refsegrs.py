# RefSegRS (SkyScapes aerial tiles, 512x512 TIFF; 2,172 / 431 / 1,817
# triplets). Layout under data_root:
#   images/<id>.tif, masks/<id>.tif, output_phrase_{train,val,test}.txt
# Generate a stand-in with the same layout:
#   python tools/dataset_converters/make_synthetic_refsegrs.py data/RefSegRS
# Masks are 0/255 TIFFs; a pixel is target when its value is > 50 (the
# authors' rule; RefSegRSDataset(mask_threshold=50)). A mask that rule would
# read wrongly (0/1, several channels, many levels) raises; the dataset's
# mask_check='lenient' reads it anyway with a warning.
# Images are read by LoadRSImageFromFile: an 8-bit RGB file loads exactly
# as with mmcv's LoadImageFromFile; any other image (uint16, 4+ bands,
# grey, float) raises naming the file until its conversion is set, in both
# pipelines, e.g. for 12-bit blue, green, red, NIR tiles:
#   dict(type='LoadRSImageFromFile', bands=(3, 2, 1), scale='percentile')
# (per-image 2nd/98th percentiles to 0-255; percentiles=(lo, hi)) or
#   dict(type='LoadRSImageFromFile', bands=(3, 2, 1), scale='minmax',
#        min_value=0, max_value=4095)        (fixed, the same every image)
# or on the command line (index 0 = the loader of each pipeline):
#   --cfg-options train_dataloader.dataset.pipeline.0.bands="(3,2,1)" \
#       train_dataloader.dataset.pipeline.0.scale=percentile  (and the same
#       for val_dataloader / test_dataloader)
dataset_type = 'RefSegRSDataset'
data_root = 'data/RefSegRS'
img_scale = (480, 480)
# Ground resolution of the training images in metres a pixel (SkyScapes:
# 13 cm), read by `tools/infer_scene.py --gsd` without a value to resample
# a scene to it. The 512 px tiles are resized to 480, so the network sees
# 0.13 * 512 / 480 = 0.139 m: pass --gsd 0.139 to match that exactly.
train_gsd = 0.13

# the paper's recipe: resize image and mask to exactly 480x480 (mask
# nearest), no augmentation
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
# the mask is loaded after Resize, so it stays at the original resolution
# and predictions are scored there; to score at 480x480 as the reference
# code does, swap the two transforms
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
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
