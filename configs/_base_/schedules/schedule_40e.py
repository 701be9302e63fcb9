# LAVT / RRSIS recipe: AdamW lr 5e-5, weight decay 1e-2, poly decay
# (power 0.9) stepped every iteration, 40 epochs.
# No weight decay on parameters whose name contains 'norm' (in the
# backbone: patch-embedding, block, patch-merging and output LayerNorms;
# LGCE's LayerNorms), on absolute position embeddings and on relative
# position bias tables. As in LAVT, BERT's 'LayerNorm' (capital N) and the
# decoder's BatchNorms ('bn') are decayed.
# fused=True: torch's fused AdamW kernel (CPU and CUDA), the same update as
# the per-parameter loop, 2-4x faster (docs/speed.md); works with the
# per-parameter weight-decay groups below.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW',
        lr=5e-5,
        betas=(0.9, 0.999),
        weight_decay=1e-2,
        fused=True),
    paramwise_cfg=dict(
        custom_keys={
            'norm': dict(decay_mult=0.),
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=40,
        by_epoch=True,
        convert_to_iter_based=True)
]
# mmengine's epoch loop that also resumes inside an epoch (iteration
# checkpoints) at the right batch, with the saved random states
train_cfg = dict(
    type='RRSISEpochBasedTrainLoop', max_epochs=40, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
