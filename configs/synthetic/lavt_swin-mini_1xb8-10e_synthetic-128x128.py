# The LAVT twin of lgce_swin-mini_1xb8-10e_synthetic-128x128.py: the same
# model, data and budget without the LGCE neck.
_base_ = ['./lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
model = dict(neck=None)
