import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.models.decode_heads import ReferringDecodeHead

CHANS = [16, 32, 64, 128]


def inputs(batch=2, size=16):
    return [
        torch.randn(batch, c, size // 2**i, size // 2**i)
        for i, c in enumerate(CHANS)
    ]


def test_lavt_parameter_count():
    head = ReferringDecodeHead(
        in_channels=[128, 256, 512, 1024], channels=512, num_classes=2)
    assert sum(p.numel() for p in head.parameters()) == 20_651_010
    assert sum(p.numel() for p in head.conv_seg.parameters()) == 512 * 2 + 2
    assert head.dropout is None and head.align_corners
    # conv 3x3 without bias + BN + ReLU, two per fusion step
    conv = head.fuse_convs[0][0]
    assert conv.conv.kernel_size == (3, 3) and conv.conv.bias is None
    assert conv.conv.in_channels == 1024 + 512
    assert head.fuse_convs[2][0].conv.in_channels == 512 + 128


def test_forward_shape_and_top_down_order():
    torch.manual_seed(0)
    head = ReferringDecodeHead(in_channels=CHANS, channels=24).eval()
    x = inputs()
    logits = head(x)
    assert logits.shape == (2, 2, 16, 16)
    # every scale contributes
    for i in range(4):
        y = list(x)
        y[i] = y[i] + 1.
        assert not torch.allclose(head(y), logits)


def test_loss_is_lavt_weighted_cross_entropy():
    torch.manual_seed(0)
    head = ReferringDecodeHead(in_channels=CHANS, channels=24)
    x = inputs()
    gts = [(torch.rand(1, 64, 64) > 0.6).long() for _ in range(2)]
    samples = []
    for gt in gts:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    head.eval()  # same BN statistics in both computations
    losses = head.loss(x, samples, dict())
    logits = F.interpolate(
        head(x), size=(64, 64), mode='bilinear', align_corners=True)
    expected = F.cross_entropy(
        logits, torch.cat(gts), weight=torch.tensor([0.9, 1.1]))
    torch.testing.assert_close(losses['loss_ce'], expected)
    # padded (ignored) pixels are fine
    samples[0].gt_sem_seg.data[:, -4:] = 255
    losses = head.loss(x, samples, dict())
    assert torch.isfinite(losses['loss_ce'])


def test_optional_dice_and_dropout():
    head = ReferringDecodeHead(
        in_channels=CHANS,
        channels=24,
        dropout_ratio=0.1,
        loss_decode=[
            dict(type='WeightedCrossEntropyLoss', class_weight=[0.9, 1.1]),
            dict(type='DiceLoss', loss_weight=0.5)
        ])
    assert head.dropout is not None
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.ones(1, 16, 16).long())
    losses = head.loss(inputs(batch=1), [sample], dict())
    assert set(losses) >= {'loss_ce', 'loss_dice'}
    with pytest.raises(ValueError):
        ReferringDecodeHead(in_channels=[16], channels=8)
