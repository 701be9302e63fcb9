# DiCoR, the full model on RefSegRS (303,842,463 parameters: BERT ->
# backbone -> localization guide -> LVMSF -> decoder -> upsample ->
# refiner), for testing and inference: the joint stage's model with the
# refiner's correction on. Test the pipeline's result or a converted
# reference checkpoint (tools/model_converters/dicor2mmrrsis.py):
#   python tools/test.py configs/dicor/dicor_swin-b_refsegrs-480x480.py \
#       work_dirs/dicor-joint_swin-b_1xb8-10e_refsegrs-480x480/best.pth
# (--resolution network scores at 480x480 as the reference does).
_base_ = ['./dicor-joint_swin-b_1xb8-10e_refsegrs-480x480.py']
model = dict(refiner=dict(init_cfg=None), test_cfg=dict(refine=True))
load_from = None
