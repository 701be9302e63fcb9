# The tiny LAVT of lavt_swin-tiny.py plus the default ('paper') LGCE neck.
_base_ = ['./lavt_swin-tiny.py']
model = dict(
    neck=dict(
        type='LGCENeck',
        in_channels=[32, 64, 128, 256],
        text_channels=32,
        scales=(0, 1, 2, 3),
        embed_dims=32,
        num_heads=4))
