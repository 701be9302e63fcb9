# DiCoR stage 4 of 4 on RISBench: joint tuning as on RefSegRS
# (dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py), from the guide stage's
# last epoch, with the refiner of stage 2 inside (frozen).
# Data as DiCoR's loader reads RISBench: the datainfo JSON lines
# (<data_root>/datainfo/risbench_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/risbench_jsonl.py), without the 16 RISBench training
# files it leaves out (exclude_files='dicor'), 50 tokens (its max_tokens).
_base_ = ['./dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py']
risbench = dict(
    type='JSONLReferringDataset',
    dataset='risbench',
    data_root='data/RISBench',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
guide_dir = 'work_dirs/dicor-guide_swin-b_1xb8-40e_risbench-480x480'
load_from = guide_dir + '/epoch_40.pth'
train_dataloader = dict(dataset=dict(risbench, split='train'))
val_dataloader = dict(dataset=dict(risbench, split='val'))
test_dataloader = dict(dataset=dict(risbench, split='test'))
refiner_dir = 'work_dirs/dicor-refiner_swin-b_1xb16-40e_risbench-480x480'
model = dict(
    text_encoder=dict(max_tokens=50),
    refiner=dict(init_cfg=dict(checkpoint=refiner_dir + '/best.pth')))
