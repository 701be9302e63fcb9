# LGCE (Yuan et al., TGRS 2024): LAVT plus language-guided cross-scale
# enhancement between the encoder and the decoder. This is the default
# ('paper') LGCE: masked-mean sentence vector, one guide token per scale,
# cross-scale exchange that reaches the pixels, all four scales.
_base_ = ['./lavt_swin-b.py']
model = dict(
    neck=dict(
        type='LGCENeck',
        in_channels=[128, 256, 512, 1024],
        text_channels=768,
        scales=(0, 1, 2, 3),
        embed_dims=256,
        num_heads=8,
        mlp_ratio=2.))
