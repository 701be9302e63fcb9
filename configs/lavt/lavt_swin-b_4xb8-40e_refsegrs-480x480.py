# mmseg-style name of configs/lavt_swin-b.py (LAVT, RefSegRS).
_base_ = ['../lavt_swin-b.py']
