# DiCoR, the full model on RISBench (303,842,463 parameters), for testing and
# inference: the joint stage's model with the refiner's correction on.
#   python tools/test.py configs/dicor/dicor_swin-b_risbench-480x480.py \
#       work_dirs/dicor-joint_swin-b_1xb8-10e_risbench-480x480/best.pth
_base_ = ['./dicor-joint_swin-b_1xb8-10e_risbench-480x480.py']
model = dict(refiner=dict(init_cfg=None), test_cfg=dict(refine=True))
load_from = None
