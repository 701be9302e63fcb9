# LGCE (RRSIS paper) on RefSegRS: LAVT plus the language-guided cross-scale
# enhancement neck (default 'paper' mode, all four scales); same recipe as
# lavt_swin-b.py. Long name: lgce/lgce_swin-b_4xb8-40e_refsegrs-480x480.py
_base_ = [
    './_base_/models/lgce_swin-b.py', './_base_/datasets/refsegrs.py',
    './_base_/schedules/schedule_40e.py', './_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
train_dataloader = dict(batch_size=8)
