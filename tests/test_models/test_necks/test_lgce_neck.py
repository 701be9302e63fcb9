import pytest
import torch

from mmrrsis.models.necks import LGCENeck

CHANS = [16, 32, 64, 128]


def feats(batch=2, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randn(batch, c, size // 2**i, size // 2**i, generator=gen)
        for i, c in enumerate(CHANS)
    ]


def words(batch=2, length=20, real=(7, 3), channels=24, seed=1):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(batch, length, channels, generator=gen)
    m = torch.zeros(batch, length)
    for b, n in enumerate(real):
        m[b, :n] = 1
    return w, m


def paper_neck(**kwargs):
    torch.manual_seed(0)
    neck = LGCENeck(
        in_channels=CHANS, text_channels=24, embed_dims=32, num_heads=4,
        **kwargs)
    neck.init_weights()  # no init_cfg: a no-op that must not fail
    return neck


def test_paper_mode_shapes_and_text_dependence():
    neck = paper_neck()
    x = feats()
    w, m = words()
    outs = neck(x, w, m)
    assert [o.shape for o in outs] == [f.shape for f in x]
    for o, f in zip(outs, x):
        assert not torch.allclose(o, f)
    w2 = w.clone()
    w2[0, 1:4] = torch.randn(3, 24)
    outs2 = neck(x, w2, m)
    for o, o2 in zip(outs, outs2):
        assert not torch.allclose(o[0], o2[0])
        torch.testing.assert_close(o[1], o2[1])


def test_paper_mode_masked_mean_ignores_padding():
    neck = paper_neck()
    x = feats()
    w, m = words()
    w_pad = w.clone()
    w_pad[m == 0] = 50 * torch.randn(int((m == 0).sum()), 24)
    for a, b in zip(neck(x, w, m), neck(x, w_pad, m)):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(
        LGCENeck.masked_mean(w, m)[1], w[1, :3].mean(0))


def test_paper_mode_every_parameter_gets_a_gradient():
    neck = paper_neck()
    x = feats()
    w, m = words()
    sum((o * torch.randn_like(o)).sum() for o in neck(x, w, m)).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_paper_mode_cross_scale_exchange_reaches_shallow_pixels():
    """Changing only the deepest map changes the stride-4 output, both
    through the guide tokens and through the top-down path."""
    neck = paper_neck()
    x = feats()
    w, m = words()
    base = neck(x, w, m)[0]
    x_deep = list(x)
    x_deep[3] = x[3] + torch.randn_like(x[3])
    assert not torch.allclose(neck(x_deep, w, m)[0], base)
    # guide path alone (top-down disabled by zeroing its projections)
    for proj in neck.down_projs:
        torch.nn.init.zeros_(proj.weight)
        torch.nn.init.zeros_(proj.bias)
    base = neck(x, w, m)[0]
    assert not torch.allclose(neck(x_deep, w, m)[0], base)


def test_paper_mode_selected_scales():
    neck = paper_neck(scales=(1, 2, 3))
    x = feats()
    w, m = words()
    outs = neck(x, w, m)
    assert outs[0] is x[0]
    assert not torch.allclose(outs[1], x[1])
    assert len(neck.pixel_projs) == 3 and len(neck.down_projs) == 2
    single = paper_neck(scales=(-1, ))
    outs = single(x, w, m)
    assert outs[0] is x[0] and not torch.allclose(outs[3], x[3])
    assert len(single.down_projs) == 0


def test_paper_mode_layer_norms_are_named_norm():
    """The schedule's no-decay key 'norm' must reach every LayerNorm."""
    neck = paper_neck()
    for name, module in neck.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            assert 'norm' in name, name


def test_rsfm_mode_parameter_layout():
    """The re-implementation's layout at Swin-B widths (text 768)."""
    neck = LGCENeck(mode='rsfm', unused_patch_embed=True)
    assert neck.scales == [2, 3]

    def count(*modules):
        return sum(p.numel() for mod in modules for p in mod.parameters())

    assert count(neck.guide_projs) == 393_728 + 787_456
    assert [len(b) for b in neck.branches] == [1, 3]
    assert count(neck.branches[0]) == 2_101_248  # one ViT block, width 512
    assert count(neck.branches[1]) == 3 * 8_396_800  # three, width 1024
    assert count(neck.to_other) == 526_336 + 526_848
    assert count(neck.cross_norms, neck.cross_attns) == 4_197_376 + \
        1_050_112
    assert count(neck.from_other) == 526_848 + 526_336
    assert count(neck.unused_patch_embeds) == 98_816 + 787_456
    assert count(neck) == 36_712_960
    assert count(LGCENeck(mode='rsfm')) == 35_826_688
    # no qkv bias, MLP ratio 2, heads 8 and 16
    block = neck.branches[1][0]
    assert block.attn.q.bias is None and block.attn.num_heads == 16
    assert block.mlp[0].out_features == 2048
    assert neck.cross_attns[0].num_heads == 16  # branch 0 -> width 1024


def test_rsfm_mode_behaviour():
    torch.manual_seed(0)
    neck = LGCENeck(
        in_channels=CHANS, text_channels=24, mode='rsfm', num_heads=(4, 8),
        unused_patch_embed=True)
    x = feats()
    w, m = words()
    outs = neck(x, w, m)
    assert [o.shape for o in outs] == [f.shape for f in x]
    assert outs[0] is x[0] and outs[1] is x[1]
    # plain mean over all positions: padding changes the output
    w_pad = w.clone()
    w_pad[m == 0] += 1.
    assert not torch.allclose(neck(x, w_pad, m)[2], outs[2])
    # the guide tokens' cross-scale exchange is dropped: no gradient there
    sum(o.sum() for o in outs[2:]).backward()
    unused = ('to_other', 'cross_norms', 'cross_attns', 'from_other',
              'unused_patch_embeds')
    for name, param in neck.named_parameters():
        if name.startswith(unused):
            assert param.grad is None, name
        else:
            assert param.grad is not None, name


def test_invalid_settings():
    with pytest.raises(ValueError):
        LGCENeck(mode='crossvit')
    with pytest.raises(ValueError):
        LGCENeck(mode='rsfm', scales=(1, 2, 3))
    with pytest.raises(ValueError, match='feature maps'):
        paper_neck()(feats()[:3], *words())
