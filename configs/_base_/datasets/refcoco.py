# RefCOCO (UNC splits) in the refer layout; data_root is the refer "data"
# folder:
#   refcoco/refs(unc).p, refcoco/instances.json,
#   images/mscoco/images/train2014/*.jpg
# For RefCOCO+ use 'refcoco+/refs(unc).p', for RefCOCOg
# 'refcocog/refs(umd).p' (and their instances.json); RefCOCO also has the
# test splits 'testA' and 'testB'.
_base_ = ['./rrsisd.py']
dataset_type = 'ReferDataset'
data_root = 'data/refcoco'
refer_files = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='refcoco/refs(unc).p',
    instances_file='refcoco/instances.json',
    data_prefix=dict(img_path='images/mscoco/images/train2014'))
# the rest (pipelines, splits, sentence sampling, evaluator) as RRSIS-D
train_dataloader = dict(dataset=refer_files)
val_dataloader = dict(dataset=refer_files)
test_dataloader = dict(dataset=refer_files)
