# RSRefSeg2's recipe (configs_RSRefSeg2/refsegrs_training.py): AdamW lr 2e-4,
# weight decay 0.05, gradient clipping 3.0; 5 warm-up epochs from 1% of the
# lr (stepped per iteration), constant until epoch 60 (10%), then cosine
# with T_max = 2 x max_epochs (an older version of that config has
# 1.8 x) down to 1% of the lr at max_epochs, i.e. the cosine never reaches
# its end. Validation every 10 epochs.
# The engine (DeepSpeed; the clipping lives in its strategy):
# _base_/rsrefseg2_runtime.py.
max_epochs = 600
base_lr = 2e-4
optim_wrapper = dict(
    type='DeepSpeedOptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=2 * max_epochs,
        by_epoch=True,
        begin=int(0.1 * max_epochs),
        end=max_epochs,
        eta_min_ratio=0.01)
]
train_cfg = dict(
    type='RRSISEpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
