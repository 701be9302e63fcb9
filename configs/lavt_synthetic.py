# The LAVT twin of lgce_synthetic.py (same model without LGCE, same budget).
_base_ = ['./synthetic/lavt_swin-mini_1xb8-10e_synthetic-128x128.py']
