# Generated generalized referring set (no-target and multi-target
# expressions on aerial scenes) in gRefCOCO's schema and ReLA's layout:
#   grefcoco/grefs(unc).json, grefcoco/instances.json, images/train2014/
# written under data_root on first use by
# mmrrsis.datasets.synthetic.make_synthetic_grefer (seeded), or ahead with
#   python tools/dataset_converters/make_synthetic_refer.py \
#       data/synthetic_grefcoco_128 --dataset grefcoco --size 128 \
#       --num-images 300
# About a quarter of the refs match nothing ("bus" on a scene without
# buses, "red car" among cars of other colours: ann_id [-1], an empty
# mask); a class with several instances is a multi-target ref. Scored with
# the GRES metrics (gIoU, cIoU, N-acc, T-acc; RRSISMetric(gres=True)).
_base_ = ['./grefcoco.py']
dataset_type = 'SyntheticGRefCOCODataset'
data_root = 'data/synthetic_grefcoco_128'
img_scale = (128, 128)
synthetic = dict(num_images=300, size=128, seed=0, no_target_ratio=.25)
# 512 px drawn at 0.13 m, scaled to 128 px (as synthetic_refsegrs.py)
train_gsd = 0.52

train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomSentence'),
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
generated = dict(type=dataset_type, data_root=data_root, **synthetic)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(generated, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(generated, split='val', pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(generated, split=['testA', 'testB'],
                 pipeline=test_pipeline))
val_evaluator = dict(type='RRSISMetric', gres=True, small_area=0.01)
test_evaluator = val_evaluator
