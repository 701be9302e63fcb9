# Tiny LAVT for tests and CPU demos: lgce_swin-tiny_refsegrs-64x64.py
# without the LGCE neck (the model of _base_/models/lavt_swin-tiny.py).
_base_ = ['./lgce_swin-tiny_refsegrs-64x64.py']
model = dict(neck=None)
