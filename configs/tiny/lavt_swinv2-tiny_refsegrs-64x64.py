# Tiny twin of configs/mix/lavt_swinv2-b_4xb8-40e_refsegrs-480x480.py for
# tests: the tiny LAVT on mmpretrain's Swin with SwinTransformerV2 as the
# encoder (32 channels, one block per stage, window 4), random weights.
_base_ = ['./lavt_swin-mmpretrain-tiny_refsegrs-64x64.py']
model = dict(
    backbone=dict(
        encoder=dict(
            type='mmpretrain.SwinTransformerV2',
            arch=dict(extra_norm_every_n_blocks=0))))
