# RefCOCO+, UNC splits (train / val / testA / testB), in the refer layout of
# refcoco.py: data_root is the refer "data" folder with
#   refcoco+/refs(unc).p, refcoco+/instances.json,
#   images/mscoco/images/train2014/*.jpg
# One test run scores val, testA and testB apart (val/oIoU, testA/oIoU, ...).
_base_ = ['./refcoco.py']
refcocoplus_files = dict(
    ann_file='refcoco+/refs(unc).p',
    instances_file='refcoco+/instances.json')
train_dataloader = dict(dataset=refcocoplus_files)
val_dataloader = dict(dataset=refcocoplus_files)
test_dataloader = dict(dataset=refcocoplus_files)
