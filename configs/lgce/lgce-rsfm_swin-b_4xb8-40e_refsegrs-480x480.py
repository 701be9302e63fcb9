# LGCE laid out as the public RSFM re-implementation (stages 3-4 only,
# guide tokens dropped after the cross-attention), for comparison with
# results from that code. The cross-attention whose result the
# re-implementation drops is kept frozen and not computed (LGCERSFMNeck),
# so distributed training needs no find_unused_parameters.
_base_ = [
    '../_base_/models/lgce-rsfm_swin-b.py', '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
train_dataloader = dict(batch_size=8)
