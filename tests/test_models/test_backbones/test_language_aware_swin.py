import pytest
import torch
from mmseg.models.backbones import SwinTransformer

from mmrrsis.models.backbones import LanguageAwareSwin
from mmrrsis.models.utils import TextConditioned, TextFeatures

TINY_SWIN = dict(
    pretrain_img_size=64,
    embed_dims=32,
    window_size=4,
    depths=[1, 1, 1, 1],
    num_heads=[1, 2, 4, 8])


def build(gate_init='zeros', init=False, **kwargs):
    torch.manual_seed(0)
    cfg = dict(TINY_SWIN, **kwargs)
    cfg.setdefault(
        'fusion_cfg',
        dict(type='PWAMFusion', text_channels=32, gate_init=gate_init))
    model = LanguageAwareSwin(**cfg)
    if init:
        model.init_weights()
    model.eval()  # mmseg's Swin.train() returns None
    return model


@pytest.mark.parametrize('size', [(64, 64), (64, 96)])
def test_stage_shapes(size, helpers):
    model = build()
    text = helpers.make_text(real=(6, 3), channels=32)
    outs = model(torch.randn(2, 3, *size), text)
    h, w = size
    assert [tuple(o.shape) for o in outs] == [
        (2, 32 * 2**i, h // 2**(i + 2), w // 2**(i + 2)) for i in range(4)
    ]


def test_fusion_layout_and_frozen_last_gate():
    model = build()
    assert isinstance(model, TextConditioned)
    assert model.fusion.in_channels == [32, 64, 128, 256]
    assert [p.requires_grad for p in model.fusion.gates[-1].parameters()
            ] == [False, False]
    assert all(p.requires_grad for p in model.fusion.gates[0].parameters())
    # LAVT initialises both gate layers to zero
    assert all((p == 0).all() for p in model.fusion.gates.parameters())
    with pytest.raises(ValueError, match='stage widths'):
        LanguageAwareSwin(
            fusion_cfg=dict(
                type='PWAMFusion', in_channels=[8, 8, 8, 8]),
            **TINY_SWIN)


def test_old_fusion_type_name_builds_the_same_model():
    """Configs saved before issue 15 name the fusion 'LAVTFusionNeck'."""
    old = build(fusion_cfg=dict(type='LAVTFusionNeck', text_channels=32))
    new = build()
    assert type(old.fusion) is type(new.fusion)
    assert old.state_dict().keys() == new.state_dict().keys()


def test_outputs_are_normed_fused_maps_and_gates_feed_the_stream(helpers):
    """Stage 1's output is norm(F_1), untouched by any gate; the gated
    stream X + gate(F) F is what the later stages see."""
    x = torch.randn(1, 3, 64, 64)
    text = helpers.make_text(batch=1, real=(5, ), channels=32)
    closed = build('zeros')
    opened = build('default')
    opened.load_state_dict(closed.state_dict(), strict=True)
    torch.manual_seed(3)
    for gate in opened.fusion.gates:
        for layer in (gate[0], gate[2]):
            torch.nn.init.normal_(layer.weight, std=0.2)
    out_closed, out_open = closed(x, text), opened(x, text)
    torch.testing.assert_close(out_open[0], out_closed[0])
    for a, b in zip(out_open[1:], out_closed[1:]):
        assert not torch.allclose(a, b)
    # each output is LayerNorm-ed over channels (weight 1, bias 0 here)
    out = out_closed[2]
    assert out.mean(dim=1).abs().max() < 1e-4
    torch.testing.assert_close(
        out.var(dim=1, unbiased=False), torch.ones_like(out[:, 0]),
        atol=0.05, rtol=0)


def test_output_depends_on_words_not_on_padding(helpers):
    model = build()
    x = torch.randn(2, 3, 64, 64)
    w, m, _ = helpers.make_text(real=(6, 3), channels=32)
    base = model(x, TextFeatures(w, m))
    w_pad = w.clone()
    w_pad[m == 0] = torch.randn(int((m == 0).sum()), 32)
    for a, b in zip(model(x, TextFeatures(w_pad, m)), base):
        torch.testing.assert_close(a, b)
    w_other = w.clone()
    w_other[0, 1:3] += 1.
    changed = model(x, TextFeatures(w_other, m))
    assert not torch.allclose(changed[0][0], base[0][0])
    torch.testing.assert_close(changed[0][1], base[0][1])


def test_loads_mmseg_swin_checkpoint(tmp_path):
    torch.manual_seed(5)
    plain = SwinTransformer(**TINY_SWIN)
    ckpt = tmp_path / 'swin.pth'
    torch.save({'state_dict': plain.state_dict()}, ckpt)
    model = build(
        init=True, init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    ours = model.state_dict()
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(ours[key], value)
    assert all((p == 0).all() for p in model.fusion.gates.parameters())
