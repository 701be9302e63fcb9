# gRefCOCO (GRES, CVPR 2023; henghuiding/gRefCOCO), generalized referring
# expressions: a ref's ann_id is a list, [-1] = no target (an empty mask),
# several ids = multi-target (masks united). ReLA's layout; data_root holds
#   grefcoco/grefs(unc).json, grefcoco/instances.json,
#   images/train2014/*.jpg  (MS COCO train2014)
# Scored with the GRES metrics as ReLA's evaluator computes them: gIoU
# (no-target samples count 1 when predicted empty), cIoU, N-acc, T-acc and
# Pr@X over the samples with a target (RRSISMetric(gres=True)). ReLA scores
# at its network resolution; we score at the original one (load the mask
# before Resize to match it). The released files hold train and val; add
# 'testA' / 'testB' to the test split when your copy has them.
_base_ = ['./refcoco.py']
dataset_type = 'GRefCOCODataset'
data_root = 'data/grefcoco'
grefcoco_files = dict(
    _delete_=True,
    type=dataset_type,
    data_root=data_root,
    ann_file='grefcoco/grefs(unc).json',
    instances_file='grefcoco/instances.json',
    data_prefix=dict(img_path='images/train2014'))
train_dataloader = dict(
    dataset=dict(grefcoco_files, split='train', text_mode='random',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(grefcoco_files, split='val', text_mode='all',
                 pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='RRSISMetric', gres=True)
test_evaluator = val_evaluator
