# DiCoR stage 1 of 4 on RRSIS-D: the coarse model (LAVT + VMSF). DiCoR's
# scripts take the dataset as an argument (DATASET=rrsisd) and keep every other
# setting, so this is the RefSegRS recipe on RRSIS-D.
# Data as DiCoR's loader reads RRSIS-D: the datainfo JSON lines
# (<data_root>/datainfo/rrsisd_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/rrsisd_jsonl.py), without the 27 RRSIS-D images it
# leaves out (exclude_files='dicor'), 22 tokens (its max_tokens).
# The whole pipeline: bash tools/misc/dicor_pipeline.sh rrsisd [GPUS]
_base_ = ['./dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py']
rrsisd = dict(
    type='JSONLReferringDataset',
    dataset='rrsisd',
    data_root='data/rrsisd',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
train_dataloader = dict(dataset=dict(rrsisd, split='train'))
val_dataloader = dict(dataset=dict(rrsisd, split='val'))
test_dataloader = dict(dataset=dict(rrsisd, split='test'))
model = dict(text_encoder=dict(max_tokens=22))
