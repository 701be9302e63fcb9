# DiCoR stage 4 of 4 on RRSIS-D: joint tuning as on RefSegRS
# (dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py), from the guide stage's
# last epoch, with the refiner of stage 2 inside (frozen).
# Data: configs/_base_/datasets/dicor_rrsisd.py.
_base_ = [
    './dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py',
    '../_base_/datasets/dicor_rrsisd.py'
]
guide_dir = 'work_dirs/dicor-guide_swin-b_1xb8-40e_rrsisd-480x480'
load_from = guide_dir + '/epoch_40.pth'
train_dataloader = dict(dataset={{_base_.dicor_train}})
val_dataloader = dict(dataset={{_base_.dicor_val}})
test_dataloader = dict(dataset={{_base_.dicor_test}})
refiner_dir = 'work_dirs/dicor-refiner_swin-b_1xb16-40e_rrsisd-480x480'
model = dict(
    text_encoder={{_base_.dicor_text_encoder}},
    refiner=dict(init_cfg=dict(checkpoint=refiner_dir + '/best.pth')))
