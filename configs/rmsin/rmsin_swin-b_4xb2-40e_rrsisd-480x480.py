# RMSIN on RRSIS-D with the recipe of its train.py / args.py: AdamW lr 3e-5,
# weight decay 0.01 (none on norms, position tables), BERT layers 0-9
# optimised only, poly 0.9 per iteration, 40 epochs, 4 GPUs x batch 2,
# 480x480, seed 2401, and 20% of the training refs (a fixed subset) get
# 20-60 random black 32x32 boxes before the resize.
#   bash tools/dist_train.sh \
#       configs/rmsin/rmsin_swin-b_4xb2-40e_rrsisd-480x480.py 4
_base_ = [
    '../_base_/models/rmsin_swin-b.py', '../_base_/datasets/rrsisd.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (480, 480)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='RandomBoxes', prob=0.2, num_boxes=(20, 60), box_size=32),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomSentence'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=3e-5))
randomness = dict(seed=2401)
