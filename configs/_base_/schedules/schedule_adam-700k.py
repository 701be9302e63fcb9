# The recipe of the LSTM-based referring models (RRN, LSCM, CMPC:
# trainval_model.py and train_op): Adam lr 2.5e-4, poly decay (power 0.9)
# to 1e-5 over 800k iterations, stopped at 700k, batch 1; an L2 penalty of
# 5e-4 on the weights of their own convolutions (not on biases, norms,
# the LSTMs or the word vectors), which Adam's weight_decay is (it adds
# 5e-4 w to the gradient, as the penalty's derivative does).
# The references double the biases' gradients ("lr multiplier 2"); under
# Adam a scaled gradient gives the same step, so no multiplier here.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='Adam', lr=2.5e-4, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=5e-4),
    paramwise_cfg=dict(
        bias_decay_mult=0.,
        norm_decay_mult=0.,
        custom_keys={
            'text_encoder': dict(decay_mult=0.),
            'conv_lstm': dict(decay_mult=0.),
        }))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=800000,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=700000, val_interval=100000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# (a leaf config also sets default_hooks.checkpoint / logger and
# log_processor to iterations, see configs/lscm/)
