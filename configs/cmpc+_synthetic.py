# The CMPC+ twin of lgce_synthetic.py (same data and budget): the short
# name of cmpc/cmpc+_r18-mini_1xb8-10e_synthetic-128x128.py.
_base_ = ['./cmpc/cmpc+_r18-mini_1xb8-10e_synthetic-128x128.py']
