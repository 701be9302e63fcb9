# Late fusion on an mmpretrain backbone: mmpretrain's ConvNeXt-atto,
# named 'mmpretrain.ConvNeXt' and so built under mmpretrain's own scope
# (its LN2d norms resolve in mmpretrain's registry), never sees the text;
# LAVT's pixel-word fusion is applied to its four outputs
# (LAVTFusionNeck), then LAVT's decoder. The rest is the tiny LAVT config
# (random 2-layer BERT with the packaged vocabulary, 64x64, batch 2), so it
# trains on CPUs in seconds. For a real run take an mmpretrain size with
# zoo weights, e.g. arch='tiny' (widths 96-768) with
# init_cfg=dict(type='Pretrained', prefix='backbone.', checkpoint='https://download.openmmlab.com/mmclassification/v0/convnext/convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth')  # noqa: E501
# (mmpretrain's model index; 'atto' has no ConvNeXt-v1 weights there).
# Any staged mmpretrain backbone with four outputs works the same way.
_base_ = ['../tiny/lavt_swin-tiny_refsegrs-64x64.py']
channels = [40, 80, 160, 320]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ConvNeXt',
        arch='atto',
        out_indices=[0, 1, 2, 3],
        gap_before_final_norm=False,
        drop_path_rate=0.1),
    neck=dict(
        _delete_=True,
        type='LAVTFusionNeck',
        in_channels=channels,
        text_channels=32,
        # late fusion outputs the gated maps: the gates must be open
        gate_init='default'),
    decode_head=dict(in_channels=channels))
