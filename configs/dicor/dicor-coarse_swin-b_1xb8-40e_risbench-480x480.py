# DiCoR stage 1 of 4 on RISBench: the coarse model (LAVT + VMSF). DiCoR's
# scripts take the dataset as an argument (DATASET=risbench) and keep every
# other setting, so this is the RefSegRS recipe on RISBench.
# Data as DiCoR's loader reads RISBench: the datainfo JSON lines
# (<data_root>/datainfo/risbench_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/risbench_jsonl.py), without the 16 RISBench training
# files it leaves out (exclude_files='dicor'), 50 tokens (its max_tokens).
# The whole pipeline: bash tools/misc/dicor_pipeline.sh risbench [GPUS]
_base_ = ['./dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py']
risbench = dict(
    type='JSONLReferringDataset',
    dataset='risbench',
    data_root='data/RISBench',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
train_dataloader = dict(dataset=dict(risbench, split='train'))
val_dataloader = dict(dataset=dict(risbench, split='val'))
test_dataloader = dict(dataset=dict(risbench, split='test'))
model = dict(text_encoder=dict(max_tokens=50))
