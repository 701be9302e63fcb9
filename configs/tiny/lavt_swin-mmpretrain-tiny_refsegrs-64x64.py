# Tiny LAVT on mmpretrain's Swin for tests: the model of
# lavt_swin-tiny_refsegrs-64x64.py with its backbone replaced by
# LanguageAwareBackbone around mmpretrain.SwinTransformer (32 channels, one
# block per stage, window 4). Same module names as mmseg's Swin: the
# equal-function test loads one model's weights into the other.
_base_ = ['./lavt_swin-tiny_refsegrs-64x64.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='LanguageAwareBackbone',
        encoder=dict(
            type='mmpretrain.SwinTransformer',
            arch=dict(embed_dims=32, depths=[1, 1, 1, 1],
                      num_heads=[1, 2, 4, 8]),
            img_size=64,
            window_size=4,
            drop_path_rate=0.1,
            # segmentation sizes: pad maps smaller than the window (as
            # mmseg's Swin does)
            pad_small_map=True),
        fusion_cfg=dict(type='PWAMFusion', text_channels=32)))
