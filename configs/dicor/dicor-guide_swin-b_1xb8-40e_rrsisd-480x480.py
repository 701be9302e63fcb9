# DiCoR stage 3 of 4 on RRSIS-D: the RefSegRS stage config
# (dicor-guide_swin-b_1xb8-40e_refsegrs-480x480.py) on RRSIS-D, from the coarse
# stage's best.pth and its prompt bank.
# Data: configs/_base_/datasets/dicor_rrsisd.py.
_base_ = [
    './dicor-guide_swin-b_1xb8-40e_refsegrs-480x480.py',
    '../_base_/datasets/dicor_rrsisd.py'
]
coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_rrsisd-480x480'
load_from = coarse_dir + '/best.pth'
train_dataloader = dict(
    dataset=dict(
        bank_dir=coarse_dir + '/prompt_bank',
        dataset={{_base_.dicor_train}}))
val_dataloader = dict(dataset={{_base_.dicor_val}})
test_dataloader = dict(dataset={{_base_.dicor_test}})
model = dict(text_encoder={{_base_.dicor_text_encoder}})
