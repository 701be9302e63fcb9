import torch

from mmrrsis.models.decode_heads import ReferringDecodeHead, RotatedDecodeHead
from mmrrsis.models.utils import AdaptiveRotatedConv2d


def test_layout_and_parameter_count_of_rmsins_decoder():
    """At Swin-B widths: 20,670,981 parameters, as counted on RMSIN's
    SimpleDecoding (LAVT's 20,651,010 plus three rotation routings)."""
    head = RotatedDecodeHead(
        in_channels=[128, 256, 512, 1024], channels=512,
        norm_cfg=dict(type='BN'))
    assert isinstance(head, ReferringDecodeHead)
    assert sum(p.numel() for p in head.parameters()) == 20_670_981
    for step in head.fuse_convs:
        assert len(step) == 2
        assert isinstance(step[0].conv, torch.nn.Conv2d)
        assert isinstance(step[1].conv, AdaptiveRotatedConv2d)
        assert step[1].conv.weight.shape == (1, 512, 512, 3, 3)


def test_forward_shapes_and_gradients(helpers):
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    head = RotatedDecodeHead(in_channels=chans, channels=16,
                             norm_cfg=dict(type='BN'), num_convs=3)
    assert [type(m.conv).__name__ for m in head.fuse_convs[0]] == [
        'Conv2d', 'Conv2d', 'AdaptiveRotatedConv2d'
    ]
    logits = head(helpers.make_feats(chans, size=32))
    assert logits.shape == (2, 2, 32, 32)
    logits.square().mean().backward()
    for name, param in head.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
