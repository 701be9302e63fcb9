import pytest
import torch
from torch import nn

from mmrrsis.models.necks import LAVTFusionNeck, PixelWordAttention
from mmrrsis.models.necks.lavt_fusion_neck import instance_norm_tokens


def words(batch=2, length=20, real=(7, 3), channels=16, seed=0):
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(batch, length, channels, generator=gen)
    mask = torch.zeros(batch, length)
    for b, n in enumerate(real):
        mask[b, :n] = 1
    return feats, mask


def test_instance_norm_tokens_matches_torch():
    x = torch.randn(2, 50, 8)
    expected = nn.InstanceNorm1d(8)(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(instance_norm_tokens(x), expected)


@pytest.mark.parametrize('num_heads', [1, 2])
def test_pwam_ignores_padding_exactly(num_heads):
    torch.manual_seed(0)
    pwam = PixelWordAttention(8, text_channels=16, num_heads=num_heads)
    x = torch.randn(2, 30, 8)
    w, m = words()
    out = pwam(x, w, m)
    assert out.shape == (2, 30, 8)
    # other values at padded positions: same result
    w_pad = w.clone()
    w_pad[m == 0] = 100 * torch.randn(int((m == 0).sum()), 16)
    torch.testing.assert_close(pwam(x, w_pad, m), out)
    # the same as giving only the real words
    short = pwam(x[1:], w[1:, :3], m[1:, :3])
    torch.testing.assert_close(short, out[1:])
    # real words matter
    w_real = w.clone()
    w_real[1, 0] += 1.
    assert not torch.allclose(pwam(x, w_real, m)[1], out[1])


def test_parameter_count_matches_lavt():
    """Per stage 6C^2 + 1542C: 4 PWAMs and gates of Swin-B (text 768)."""
    neck = LAVTFusionNeck(in_channels=[128, 256, 512, 1024])
    per_stage = [sum(p.numel() for p in m.parameters())
                 for m in neck.pwams]
    per_stage = [
        n + sum(p.numel() for p in g.parameters())
        for n, g in zip(per_stage, neck.gates)
    ]
    assert per_stage == [6 * c * c + 1542 * c for c in (128, 256, 512, 1024)]
    assert sum(p.numel() for p in neck.parameters()) == 11_316_480


def test_early_fuse_api():
    torch.manual_seed(0)
    neck = LAVTFusionNeck(in_channels=[8, 16], text_channels=16)
    x = torch.randn(2, 12, 16)
    w, m = words()
    fused, stream = neck.fuse(1, x, w, m)
    assert fused.shape == stream.shape == x.shape
    torch.testing.assert_close(stream, x)  # LAVT's zero gate: closed
    fused2, same = neck.fuse(1, x, w, m, with_gate=False)
    assert same is x
    torch.testing.assert_close(fused2, fused)


def test_late_mode_shapes_text_dependence_and_gradients():
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    neck = LAVTFusionNeck(
        in_channels=chans, text_channels=16, gate_init='default')
    feats = [torch.randn(2, c, 16 // 2**i, 16 // 2**i)
             for i, c in enumerate(chans)]
    w, m = words()
    outs = neck(feats, w, m)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    for o, f in zip(outs, feats):
        assert not torch.allclose(o, f)
    w2 = w.clone()
    w2[:, :3] = torch.randn(2, 3, 16)
    outs2 = neck(feats, w2, m)
    assert not torch.allclose(outs2[0], outs[0])
    sum(o.sum() for o in outs).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match='feature maps'):
        neck(feats[:2], w, m)


def test_gate_inits():
    for mode, zero_first, zero_last in [('zeros', True, True),
                                        ('last', False, True),
                                        ('default', False, False)]:
        neck = LAVTFusionNeck(in_channels=[8], text_channels=4,
                              gate_init=mode)
        neck.init_weights()
        gate = neck.gates[0]
        assert bool((gate[0].weight == 0).all()) == zero_first
        assert bool((gate[2].weight == 0).all()) == zero_last
    with pytest.raises(ValueError):
        LAVTFusionNeck(in_channels=[8], gate_init='ones')
