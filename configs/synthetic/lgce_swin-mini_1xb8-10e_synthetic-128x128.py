# Out of the box: a small LGCE model trained on the CPU in minutes on
# generated RefSegRS-layout data (300 images of 128x128, about 860 training
# expressions), created under data/synthetic_refsegrs_128 on first use.
# Nothing is downloaded: Swin with 32 channels, a 2-layer BERT (hidden 64)
# with random weights on the vocabulary that ships with mmrrsis.
# The LAVT twin on the same budget: lavt_swin-mini_1xb8-10e_synthetic-...
_base_ = [
    '../_base_/models/lgce_swin-tiny.py',
    '../_base_/datasets/synthetic_refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)

channels = [32, 64, 128, 256]
text_channels = 64
model = dict(
    text_encoder=dict(
        bert_config=dict(
            hidden_size=text_channels,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128),
        # trained from scratch here, so nothing is frozen
        freeze_embeddings=False,
        frozen_layers=[]),
    backbone=dict(
        pretrain_img_size=128,
        depths=[1, 1, 2, 1],
        drop_path_rate=0.,
        fusion_cfg=dict(text_channels=text_channels)),
    neck=dict(
        in_channels=channels, text_channels=text_channels, embed_dims=64),
    decode_head=dict(
        in_channels=channels,
        channels=64,
        # a per-expression Dice next to LAVT's weighted CE: targets are
        # small, and a model trained for minutes otherwise settles on
        # predicting background everywhere
        loss_decode=[
            dict(
                type='WeightedCrossEntropyLoss',
                class_weight=[0.9, 1.1],
                loss_weight=1.0),
            dict(type='TargetDiceLoss', loss_weight=1.0)
        ]))

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
# random initialisation: a larger learning rate than the recipe's 5e-5
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=2, max_keep_ckpts=2),
    # a few validation drawings (ground truth, prediction, expression)
    visualization=dict(draw=True, interval=20))
randomness = dict(seed=0)
