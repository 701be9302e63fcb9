# RefSegRS from the datainfo JSON lines of RSRefSeg2 / DiCoR:
#   <data_root>/datainfo/refsegrs_{train,val,test}.jsonl
#   <data_root>/images/<id>.tif
# Samples in file order, masks decoded from each line's RLE, as DiCoR's
# data/refdataset.py reads them (exclude_files='dicor' also leaves out the
# files DiCoR skips; by default every line is read). The RLEs were encoded
# from the stored mask files: a soft-edged mask decodes to stripes; give
# data_prefix=dict(img_path='images', seg_map_path='masks') and run
# tools/dataset_converters/check_dataset.py to compare them with the files.
# The rest (pipelines, evaluator, 480x480) as refsegrs.py.
_base_ = ['./refsegrs.py']
dataset_type = 'JSONLReferringDataset'
jsonl_files = dict(
    _delete_=True,
    type=dataset_type,
    data_root='data/RefSegRS',
    dataset='refsegrs')
train_dataloader = dict(
    dataset=dict(jsonl_files, split='train',
                 pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(jsonl_files, split='val',
                 pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(
    dataset=dict(jsonl_files, split='test',
                 pipeline={{_base_.test_pipeline}}))
