# Out of the box, generalized referring segmentation: the small LAVT of
# lavt_swin-mini_1xb8-10e_synthetic-128x128.py with a no-target branch
# (NoTargetHead: a classifier on the pooled fused features, as ReLA's),
# trained on a generated gRefCOCO-schema set (300 images of 128x128 under
# data/synthetic_grefcoco_128, created on first use): about a quarter of
# the expressions match nothing ("bus" without buses, "red car" among cars
# of other colours), a class with several instances is multi-target.
# Scored with the GRES metrics: gIoU, cIoU, N-acc (no-target samples
# predicted empty), T-acc (targeted samples not predicted empty).
_base_ = ['./lavt_swin-mini_1xb8-10e_synthetic-128x128.py']

model = dict(
    no_target_head=dict(
        type='NoTargetHead',
        # the two deepest fused maps of the backbone
        in_channels=[128, 256],
        in_index=[2, 3],
        pooling='avgmax',
        hidden_channels=128,
        # ReLA weighs its branch 0.1; a model trained from scratch for
        # minutes needs a louder signal
        loss_weight=1.0),
    # a sample whose no-target probability exceeds this gets an empty mask
    test_cfg=dict(no_target_threshold=0.5))

generalized = dict(
    _delete_=True,
    type='SyntheticGRefCOCODataset',
    data_root='data/synthetic_grefcoco_128',
    num_images=300,
    size=128,
    seed=0,
    no_target_ratio=.25,
    text_mode='all')  # every sentence a sample (one or two a ref)
train_dataloader = dict(
    dataset=dict(generalized, split='train',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(generalized, split='val',
                 pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(
    batch_size=8,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(generalized, split=['testA', 'testB'],
                 pipeline={{_base_.test_pipeline}}))
val_evaluator = dict(type='RRSISMetric', gres=True, small_area=0.01)
test_evaluator = val_evaluator
