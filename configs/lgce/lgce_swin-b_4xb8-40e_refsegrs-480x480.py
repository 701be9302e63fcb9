# mmseg-style name of configs/lgce_swin-b.py (LGCE, RefSegRS).
_base_ = ['../lgce_swin-b.py']
