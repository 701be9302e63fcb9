import pytest
import torch

from mmrrsis.models.necks import LGCENeck
from mmrrsis.models.utils import TextFeatures, pool_words

CHANS = [16, 32, 64, 128]


def paper_neck(**kwargs):
    torch.manual_seed(0)
    neck = LGCENeck(
        in_channels=CHANS, text_channels=24, embed_dims=32, num_heads=4,
        **kwargs)
    neck.init_weights()  # no init_cfg: a no-op that must not fail
    return neck


def test_paper_mode_shapes_and_text_dependence(helpers):
    neck = paper_neck()
    x = helpers.make_feats(CHANS)
    w, m, _ = helpers.make_text(channels=24, seed=1)
    outs = neck(x, TextFeatures(w, m))
    assert [o.shape for o in outs] == [f.shape for f in x]
    for o, f in zip(outs, x):
        assert not torch.allclose(o, f)
    w2 = w.clone()
    w2[0, 1:4] = torch.randn(3, 24)
    outs2 = neck(x, TextFeatures(w2, m))
    for o, o2 in zip(outs, outs2):
        assert not torch.allclose(o[0], o2[0])
        torch.testing.assert_close(o[1], o2[1])


def test_paper_mode_masked_mean_ignores_padding(helpers):
    neck = paper_neck()
    x = helpers.make_feats(CHANS)
    w, m, _ = helpers.make_text(channels=24, seed=1)
    w_pad = w.clone()
    w_pad[m == 0] = 50 * torch.randn(int((m == 0).sum()), 24)
    for a, b in zip(neck(x, TextFeatures(w, m)),
                    neck(x, TextFeatures(w_pad, m))):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(
        pool_words(w, m, 'masked_mean')[1], w[1, :3].mean(0))


def test_paper_mode_every_parameter_gets_a_gradient(helpers):
    neck = paper_neck()
    x = helpers.make_feats(CHANS)
    w, m, _ = helpers.make_text(channels=24, seed=1)
    outs = neck(x, TextFeatures(w, m))
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_paper_mode_cross_scale_exchange_reaches_shallow_pixels(helpers):
    """Changing only the deepest map changes the stride-4 output, both
    through the guide tokens and through the top-down path."""
    neck = paper_neck()
    x = helpers.make_feats(CHANS)
    w, m, _ = helpers.make_text(channels=24, seed=1)
    base = neck(x, TextFeatures(w, m))[0]
    x_deep = list(x)
    x_deep[3] = x[3] + torch.randn_like(x[3])
    assert not torch.allclose(neck(x_deep, TextFeatures(w, m))[0], base)
    # guide path alone (top-down disabled by zeroing its projections)
    for proj in neck.down_projs:
        torch.nn.init.zeros_(proj.weight)
        torch.nn.init.zeros_(proj.bias)
    base = neck(x, TextFeatures(w, m))[0]
    assert not torch.allclose(neck(x_deep, TextFeatures(w, m))[0], base)


def test_paper_mode_selected_scales(helpers):
    neck = paper_neck(scales=(1, 2, 3))
    x = helpers.make_feats(CHANS)
    w, m, _ = helpers.make_text(channels=24, seed=1)
    outs = neck(x, TextFeatures(w, m))
    assert outs[0] is x[0]
    assert not torch.allclose(outs[1], x[1])
    assert len(neck.pixel_projs) == 3 and len(neck.down_projs) == 2
    single = paper_neck(scales=(-1, ))
    outs = single(x, TextFeatures(w, m))
    assert outs[0] is x[0] and not torch.allclose(outs[3], x[3])
    assert len(single.down_projs) == 0


def test_paper_mode_layer_norms_are_named_norm():
    """The schedule's no-decay key 'norm' must reach every LayerNorm."""
    neck = paper_neck()
    for name, module in neck.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            assert 'norm' in name, name


def test_invalid_settings(helpers):
    with pytest.raises(TypeError, match='mode'):  # one layout, no switch
        LGCENeck(mode='rsfm')
    with pytest.raises(ValueError, match='feature maps'):
        paper_neck()(helpers.make_feats(CHANS)[:3],
                     helpers.make_text(channels=24, seed=1))
