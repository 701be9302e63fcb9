# LGCE laid out exactly as the public re-implementation (RSFM toolbox):
# stages 3 and 4, ViT depths (1, 3), heads (8, 16), MLP ratio 2, no qkv
# bias, plain mean over all 20 positions, guide tokens dropped. The
# re-implementation's cross-branch exchange only updates the dropped guide
# tokens: LGCERSFMNeck keeps its weights (same keys and parameter count)
# frozen and does not compute it, so no find_unused_parameters is needed.
_base_ = ['./lavt_swin-b.py']
model = dict(
    neck=dict(
        type='LGCERSFMNeck',
        in_channels=[128, 256, 512, 1024],
        text_channels=768,
        scales=(2, 3),
        num_heads=(8, 16),
        depths=(1, 3),
        mlp_ratio=2.,
        unused_patch_embed=True))
