# Tiny twin of configs/mix/lavt_convnext-b_4xb8-40e_refsegrs-480x480.py for
# tests: the tiny LAVT on mmpretrain's Swin with ConvNeXt as the encoder
# (widths 32-256, one block per stage), random weights.
_base_ = ['./lavt_swin-mmpretrain-tiny_refsegrs-64x64.py']
model = dict(
    backbone=dict(
        encoder=dict(
            _delete_=True,
            type='mmpretrain.ConvNeXt',
            arch=dict(depths=[1, 1, 1, 1], channels=[32, 64, 128, 256]),
            drop_path_rate=0.1,
            gap_before_final_norm=False)))
