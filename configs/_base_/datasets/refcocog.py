# RefCOCOg, UMD splits (train / val / test), in the refer layout of
# refcoco.py: data_root is the refer "data" folder with
#   refcocog/refs(umd).p, refcocog/instances.json,
#   images/mscoco/images/train2014/*.jpg
# (the Google split, refs(google).p, has train and val only.)
# One test run scores val and test apart (val/oIoU, test/oIoU, ...).
_base_ = ['./refcoco.py']
refcocog_files = dict(
    ann_file='refcocog/refs(umd).p',
    instances_file='refcocog/instances.json')
train_dataloader = dict(dataset=refcocog_files)
val_dataloader = dict(dataset=refcocog_files)
test_dataloader = dict(dataset=dict(refcocog_files, split=['val', 'test']))
