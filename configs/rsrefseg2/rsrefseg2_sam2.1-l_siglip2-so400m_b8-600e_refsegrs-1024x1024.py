# RSRefSeg2 on RefSegRS with the reference's recipe
# (KyanChen/RSRefSeg2 configs_RSRefSeg2/refsegrs_training.py): batch 8 per
# GPU (the number of GPUs is not published), keep-ratio resize to 1024 (the
# 512 px tiles become 1024 x 1024), no augmentation, AdamW 2e-4 / 0.05,
# clipping 3.0, 5 warm-up epochs then cosine, 600 epochs, DeepSpeed ZeRO-2
# in bf16 (tools/train.py --strategy fsdp or ddp switches engine).
# The reference validates on the *test* split and keeps the best by its
# gIoU_1 (our mIoU); here validation is on val, the best by mIoU.
_base_ = [
    '../_base_/models/rsrefseg2_sam2.1-l_siglip2-so400m.py',
    '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_rsrefseg2_600e.py',
    '../_base_/rsrefseg2_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (1024, 1024)
# 512 px tiles of 0.13 m seen at 1024 px
train_gsd = 0.065
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
