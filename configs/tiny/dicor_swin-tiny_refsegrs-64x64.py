# Tiny DiCoR, the full model (joint stage with the refiner's correction on)
# for tests and inference.
_base_ = ['./dicor-joint_swin-tiny_refsegrs-64x64.py']
model = dict(refiner=dict(init_cfg=None), test_cfg=dict(refine=True))
load_from = None
