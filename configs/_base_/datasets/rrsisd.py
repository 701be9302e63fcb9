# RRSIS-D (RMSIN; 17,402 triplets, 800x800 JPEG, 20 categories) in the
# refer layout; data_root is the refer "data" folder:
#   rrsisd/refs(unc).p, rrsisd/instances.json,
#   images/rrsisd/JPEGImages/*.jpg
# Generate a stand-in with the same layout:
#   python tools/dataset_converters/make_synthetic_refer.py data/rrsisd
# Quirks of the published files: segmentation is a list of one compressed
# RLE (str counts); some JPEGs are 800x801 / 801x800 / 800x787 with an
# 800x800 mask: size_mismatch='resample' (default) puts such an image on its
# mask's grid, with one warning counting them; 'error' refuses them.
# Check a copy first: python tools/dataset_converters/check_dataset.py CONFIG
# Images are read by LoadRSImageFromFile (8-bit RGB as mmcv's
# LoadImageFromFile; other images need bands= / scale=, see refsegrs.py).
# No train_gsd: RRSIS-D's images come from RSVGD, whose images are DIOR's
# Google Earth tiles of 0.5 m to 30 m a pixel, so there is no single
# training ground resolution (tools/infer_scene.py --gsd needs a value).
dataset_type = 'RRSISDDataset'
data_root = 'data/rrsisd'
img_scale = (480, 480)

# training sees one random sentence of each ref per epoch (as LAVT)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomSentence'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
# evaluation: every sentence is a sample; the mask stays at the original
# resolution (load it before Resize to score at 480x480)
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
        split='train',
        text_mode='random',
        pipeline=train_pipeline))
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
        pipeline=test_pipeline))
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
        pipeline=test_pipeline))

val_evaluator = dict(type='RRSISMetric')
test_evaluator = val_evaluator
