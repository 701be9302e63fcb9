# LAVT on RRSIS-D, same model and recipe as configs/lavt_swin-b.py.
_base_ = [
    '../_base_/models/lavt_swin-b.py', '../_base_/datasets/rrsisd.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
train_dataloader = dict(batch_size=8)
