# DiCoR stage 2 of 4 on RISBench: the RefSegRS stage config
# (dicor-refiner_swin-b_1xb16-40e_refsegrs-480x480.py) on RISBench, from the
# coarse stage's best.pth and its prompt bank.
# Data as DiCoR's loader reads RISBench: the datainfo JSON lines
# (<data_root>/datainfo/risbench_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/risbench_jsonl.py), without the 16 RISBench training
# files it leaves out (exclude_files='dicor'), 50 tokens (its max_tokens).
_base_ = ['./dicor-refiner_swin-b_1xb16-40e_refsegrs-480x480.py']
risbench = dict(
    type='JSONLReferringDataset',
    dataset='risbench',
    data_root='data/RISBench',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_risbench-480x480'
load_from = coarse_dir + '/best.pth'
train_dataloader = dict(
    dataset=dict(
        bank_dir=coarse_dir + '/prompt_bank',
        dataset=dict(risbench, split='train')))
val_dataloader = dict(dataset=dict(risbench, split='val'))
test_dataloader = dict(dataset=dict(risbench, split='test'))
model = dict(text_encoder=dict(max_tokens=50))
