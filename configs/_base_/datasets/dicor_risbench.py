# RISBench as DiCoR's loader (data/refdataset.py) reads it, for the DiCoR stage
# configs configs/dicor/*_risbench-480x480.py: the datainfo JSON lines
# (<data_root>/datainfo/risbench_{train,val,test}.jsonl, one sample a line, see
# risbench_jsonl.py) without the 16 RISBench training files it leaves out
# (exclude_files='dicor'), and its 50 tokens. Variables only (no
# dataloaders), so it stacks on a RefSegRS stage config as a second base:
# the stage keeps its pipelines, the dataset fields are replaced.
dicor_train = dict(
    type='JSONLReferringDataset',
    dataset='risbench',
    data_root='data/RISBench',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor',
    split='train')
dicor_val = dict(dicor_train, split='val')
dicor_test = dict(dicor_train, split='test')
dicor_text_encoder = dict(max_tokens=50)
