# DiCoR stage 3 of 4 on RRSIS-D: the RefSegRS stage config
# (dicor-guide_swin-b_1xb8-40e_refsegrs-480x480.py) on RRSIS-D, from the coarse
# stage's best.pth and its prompt bank.
# Data as DiCoR's loader reads RRSIS-D: the datainfo JSON lines
# (<data_root>/datainfo/rrsisd_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/rrsisd_jsonl.py), without the 27 RRSIS-D images it
# leaves out (exclude_files='dicor'), 22 tokens (its max_tokens).
_base_ = ['./dicor-guide_swin-b_1xb8-40e_refsegrs-480x480.py']
rrsisd = dict(
    type='JSONLReferringDataset',
    dataset='rrsisd',
    data_root='data/rrsisd',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_rrsisd-480x480'
load_from = coarse_dir + '/best.pth'
train_dataloader = dict(
    dataset=dict(
        bank_dir=coarse_dir + '/prompt_bank',
        dataset=dict(rrsisd, split='train')))
val_dataloader = dict(dataset=dict(rrsisd, split='val'))
test_dataloader = dict(dataset=dict(rrsisd, split='test'))
model = dict(text_encoder=dict(max_tokens=22))
