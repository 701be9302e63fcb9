# LAVT baseline of the RRSIS paper on RefSegRS: Swin-B (window 12, IN-22k
# 384) + BERT-base, AdamW 5e-5, poly decay, 40 epochs, 480x480, batch 8 per
# GPU (LAVT trains on 4 GPUs; a total batch under 16 can collapse).
# Long name: lavt/lavt_swin-b_4xb8-40e_refsegrs-480x480.py
_base_ = [
    './_base_/models/lavt_swin-b.py', './_base_/datasets/refsegrs.py',
    './_base_/schedules/schedule_40e.py', './_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
train_dataloader = dict(batch_size=8)
