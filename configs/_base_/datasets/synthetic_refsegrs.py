# Generated RefSegRS stand-in: the RefSegRS layout (images/, masks/,
# output_phrase_{train,val,test}.txt) written by
# mmrrsis.datasets.synthetic, created under data_root on first use if it is
# not there yet (seeded, so every machine gets the same set). Used by the
# out-of-the-box configs in configs/synthetic/.
_base_ = ['./refsegrs.py']
dataset_type = 'SyntheticRefSegRSDataset'
data_root = 'data/synthetic_refsegrs_128'
img_scale = (128, 128)
synthetic = dict(num_images=300, size=128, seed=0)
# The generator draws a 512 px tile at 0.13 m a pixel and scales it to
# `size`, so 128 px tiles are 0.52 m (0.13 * 512 / 128), as the generated
# scenes of mmrrsis.datasets.synthetic.geo_scene (--gsd without a value)
train_gsd = 0.52

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
    batch_size=8,
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=train_pipeline,
        **synthetic))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=test_pipeline,
        **synthetic))
# the same settings; the split (ann_file) comes from refsegrs.py
test_dataloader = val_dataloader

# also score the small targets (under 1% of the image) on their own
val_evaluator = dict(type='RRSISMetric', small_area=0.01)
test_evaluator = val_evaluator
