# RefCOCO, UNC splits (train / val / testA / testB; there is no 'test'), in
# the refer layout; data_root is the refer "data" folder, which also holds
# RefCOCO+ and RefCOCOg (refcoco+.py, refcocog.py):
#   refcoco/refs(unc).p, refcoco/instances.json,
#   images/mscoco/images/train2014/*.jpg
# Annotations are COCO polygon lists; the refer API (and so the published
# LAVT numbers) drops pixels where two polygons of an annotation overlap,
# we unite them: set polygon_overlap='refer' on the datasets to match it.
# One test run scores val, testA and testB apart: val/oIoU, testA/oIoU,
# testB/oIoU, ... (RRSISMetric prefixes each sample's split).
_base_ = ['./rrsisd.py']
dataset_type = 'ReferDataset'
data_root = 'data/refcoco'
refer_files = dict(
    type=dataset_type,
    data_root=data_root,
    ann_file='refcoco/refs(unc).p',
    instances_file='refcoco/instances.json',
    data_prefix=dict(img_path='images/mscoco/images/train2014'))
# the rest (pipelines, sentence sampling, evaluator) as RRSIS-D
train_dataloader = dict(dataset=dict(refer_files, split='train'))
val_dataloader = dict(dataset=dict(refer_files, split='val'))
test_dataloader = dict(
    dataset=dict(refer_files, split=['val', 'testA', 'testB']))
