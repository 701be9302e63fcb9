# Out of the box on a CPU, no download: the short name of
# synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py (generates its
# data on first use, trains a small LGCE model in minutes).
_base_ = ['./synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py']
