import pytest
import torch
from torch import nn

from mmrrsis.models.fusions import BaseFusion, PixelWordAttention, PWAMFusion
from mmrrsis.models.fusions.pwam_fusion import instance_norm_tokens


def test_instance_norm_tokens_matches_torch():
    x = torch.randn(2, 50, 8)
    expected = nn.InstanceNorm1d(8)(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(instance_norm_tokens(x), expected)


@pytest.mark.parametrize('num_heads', [1, 2])
def test_pwam_ignores_padding_exactly(num_heads, helpers):
    torch.manual_seed(0)
    pwam = PixelWordAttention(8, text_channels=16, num_heads=num_heads)
    x = torch.randn(2, 30, 8)
    w, m, _ = helpers.make_text()
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


def _reference_language_branch(pwam, x, w, m, heads, scale_channels):
    """LAVT's multi-head pixel-word attention written out independently:
    channel-major heads (as its Conv1d layout reshapes them), additive
    -1e4 mask, scores scaled by ``scale_channels ** -0.5``."""
    B, N, _ = x.shape
    q = pwam.query_proj(x)  # B, N, Ck
    q = (q - q.mean(1, keepdim=True)) / torch.sqrt(
        q.var(1, unbiased=False, keepdim=True) + 1e-5)
    k = (pwam.key_proj(w) * m[..., None]).permute(0, 2, 1)  # B, Ck, L
    v = (pwam.value_proj(w) * m[..., None]).permute(0, 2, 1)  # B, Cv, L
    ck, cv, L = k.shape[1], v.shape[1], k.shape[2]
    q = q.reshape(B, N, heads, ck // heads).permute(0, 2, 1, 3)
    k = k.reshape(B, heads, ck // heads, L)
    v = v.reshape(B, heads, cv // heads, L)
    sim = (q @ k) * scale_channels**-0.5 + (1e4 * m[:, None, None] - 1e4)
    out = sim.softmax(-1) @ v.permute(0, 1, 3, 2)
    out = out.permute(0, 2, 1, 3).reshape(B, N, cv)
    out = pwam.out_proj(out)
    return (out - out.mean(1, keepdim=True)) / torch.sqrt(
        out.var(1, unbiased=False, keepdim=True) + 1e-5)


def test_multi_head_scale_matches_lavt_total_key_channels(helpers):
    """LAVT's --mha scales by key_channels ** -0.5 (all heads); ours by
    default too, and by the per-head width on request."""
    torch.manual_seed(0)
    pwam = PixelWordAttention(8, text_channels=16, num_heads=2)
    assert pwam.attn_scale == 'total' and pwam.scale == 8**-0.5
    x = torch.randn(2, 30, 8) * 3
    w, m, _ = helpers.make_text()
    expected = _reference_language_branch(pwam, x, w, m, 2, 8)
    vis = pwam.vis_proj(x)
    torch.testing.assert_close(
        pwam(x, w, m), pwam.fuse_proj(vis * expected))
    per_head = PixelWordAttention(
        8, text_channels=16, num_heads=2, attn_scale='per_head')
    per_head.load_state_dict(pwam.state_dict())
    assert per_head.scale == 4**-0.5
    expected = _reference_language_branch(per_head, x, w, m, 2, 4)
    torch.testing.assert_close(
        per_head(x, w, m), per_head.fuse_proj(vis * expected))
    assert not torch.allclose(per_head(x, w, m), pwam(x, w, m))
    with pytest.raises(ValueError, match='attn_scale'):
        PixelWordAttention(8, num_heads=2, attn_scale='head')


def test_parameter_count_matches_lavt():
    """Per stage 6C^2 + 1542C: 4 PWAMs and gates of Swin-B (text 768)."""
    fusion = PWAMFusion(in_channels=[128, 256, 512, 1024])
    assert isinstance(fusion, BaseFusion)
    per_stage = [
        sum(p.numel() for p in fusion.pwams[i].parameters()) +
        sum(p.numel() for p in fusion.gates[i].parameters())
        for i in range(4)
    ]
    assert per_stage == [6 * c * c + 1542 * c for c in (128, 256, 512, 1024)]
    assert sum(p.numel() for p in fusion.parameters()) == 11_316_480


def test_fuse_contract(helpers):
    torch.manual_seed(0)
    fusion = PWAMFusion(in_channels=[8, 16], text_channels=16)
    x = torch.randn(2, 12, 16)
    text = helpers.make_text()
    fused, stream = fusion.fuse(1, x, (3, 4), text)
    assert fused.shape == stream.shape == x.shape
    torch.testing.assert_close(stream, x)  # LAVT's zero gate: closed
    fused2, same = fusion.fuse(1, x, (3, 4), text, with_stream=False)
    assert same is x
    torch.testing.assert_close(fused2, fused)
    assert fusion.stream_modules(1) == [fusion.gates[1]]
    # an open gate changes the stream
    open_gates = PWAMFusion(
        in_channels=[8, 16], text_channels=16, gate_init='default')
    _, stream = open_gates.fuse(1, x, (3, 4), text)
    assert not torch.allclose(stream, x)


def test_gate_inits():
    for mode, zero_first, zero_last in [('zeros', True, True),
                                        ('last', False, True),
                                        ('default', False, False),
                                        ('trunc_normal', False, False)]:
        fusion = PWAMFusion(in_channels=[8], text_channels=4,
                            gate_init=mode)
        fusion.init_weights()
        gate = fusion.gates[0]
        assert bool((gate[0].weight == 0).all()) == zero_first
        assert bool((gate[2].weight == 0).all()) == zero_last
        if mode == 'trunc_normal':
            # torch's and timm's trunc_normal_ cut at +-2 (absolute)
            assert 0.015 < gate[0].weight.std() < 0.025
    with pytest.raises(ValueError, match='gate_init'):
        PWAMFusion(in_channels=[8], gate_init='ones')
