# RRSIS-D as DiCoR's loader (data/refdataset.py) reads it, for the DiCoR stage
# configs configs/dicor/*_rrsisd-480x480.py: the datainfo JSON lines
# (<data_root>/datainfo/rrsisd_{train,val,test}.jsonl, one sample a line, see
# rrsisd_jsonl.py) without the 27 RRSIS-D images it leaves out
# (exclude_files='dicor'), and its 22 tokens. Variables only (no
# dataloaders), so it stacks on a RefSegRS stage config as a second base:
# the stage keeps its pipelines, the dataset fields are replaced.
dicor_train = dict(
    type='JSONLReferringDataset',
    dataset='rrsisd',
    data_root='data/rrsisd',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor',
    split='train')
dicor_val = dict(dicor_train, split='val')
dicor_test = dict(dicor_train, split='test')
dicor_text_encoder = dict(max_tokens=22)
