# The LSCM twin of lgce_synthetic.py (same data and budget): the short name
# of lscm/lscm_r18-mini_1xb8-10e_synthetic-128x128.py.
_base_ = ['./lscm/lscm_r18-mini_1xb8-10e_synthetic-128x128.py']
