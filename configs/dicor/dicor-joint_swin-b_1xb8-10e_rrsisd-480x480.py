# DiCoR stage 4 of 4 on RRSIS-D: joint tuning as on RefSegRS
# (dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py), from the guide stage's
# last epoch, with the refiner of stage 2 inside (frozen).
# Data as DiCoR's loader reads RRSIS-D: the datainfo JSON lines
# (<data_root>/datainfo/rrsisd_{train,val,test}.jsonl, one sample a line,
# configs/_base_/datasets/rrsisd_jsonl.py), without the 27 RRSIS-D images it
# leaves out (exclude_files='dicor'), 22 tokens (its max_tokens).
_base_ = ['./dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py']
rrsisd = dict(
    type='JSONLReferringDataset',
    dataset='rrsisd',
    data_root='data/rrsisd',
    ann_file=None,
    data_prefix=None,
    exclude_files='dicor')
guide_dir = 'work_dirs/dicor-guide_swin-b_1xb8-40e_rrsisd-480x480'
load_from = guide_dir + '/epoch_40.pth'
train_dataloader = dict(dataset=dict(rrsisd, split='train'))
val_dataloader = dict(dataset=dict(rrsisd, split='val'))
test_dataloader = dict(dataset=dict(rrsisd, split='test'))
refiner_dir = 'work_dirs/dicor-refiner_swin-b_1xb16-40e_rrsisd-480x480'
model = dict(
    text_encoder=dict(max_tokens=22),
    refiner=dict(init_cfg=dict(checkpoint=refiner_dir + '/best.pth')))
