# DiCoR's synthetic twin, the full model (joint stage with the refiner's
# correction on), to test the pipeline's result:
#   python tools/test.py configs/dicor/dicor_swin-mini_synthetic-128x128.py \
#       work_dirs/dicor-joint_swin-mini_1xb8-4e_synthetic-128x128/best.pth
_base_ = ['./dicor-joint_swin-mini_1xb8-4e_synthetic-128x128.py']
model = dict(refiner=dict(init_cfg=None), test_cfg=dict(refine=True))
load_from = None
