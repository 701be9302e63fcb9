# DiCoR stage 1 of 4 on RefSegRS: the coarse model (LAVT + VMSF) with the
# recipe of its train_baseline.py / scripts/train_coarse.sh: AdamW lr 3e-5,
# weight decay 1e-2 (none on norms, position tables), BERT layers 0-9,
# poly 0.9 per iteration, 40 epochs, batch 8 on one GPU, 480x480, CE + Dice,
# seed 42. Weight snapshots after epochs 10, 15, 20, 30 and 39 feed the
# prompt bank (tools/misc/build_prompt_bank.py); best.pth (best val oIoU)
# starts the next stages. The whole pipeline: tools/misc/dicor_pipeline.sh.
#   python tools/train.py \
#       configs/dicor/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py
# The reference picks coarse_best.pth on the test split; ours on val.
_base_ = [
    '../_base_/models/dicor_swin-b.py', '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
optim_wrapper = dict(optimizer=dict(lr=3e-5))
snapshot_epochs = [10, 15, 20, 30, 39]
custom_hooks = [
    dict(type='EpochSnapshotHook', epochs=snapshot_epochs),
    dict(type='BestCheckpointLinkHook'),
]
randomness = dict(seed=42)
