import pytest
import torch

from mmrrsis.models.necks import BaseTextNeck, LAVTFusionNeck
from mmrrsis.models.utils import TextFeatures


def test_late_fusion_shapes_text_dependence_and_gradients(helpers):
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    neck = LAVTFusionNeck(
        in_channels=chans, text_channels=16, gate_init='default')
    assert isinstance(neck, BaseTextNeck)
    feats = helpers.make_feats(chans, size=16)
    t = helpers.make_text()
    outs = neck(feats, t)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    for o, f in zip(outs, feats):
        assert not torch.allclose(o, f)
    words = t.words.clone()
    words[:, :3] = torch.randn(2, 3, 16)
    outs2 = neck(feats, TextFeatures(words, t.mask))
    assert not torch.allclose(outs2[0], outs[0])
    sum(o.sum() for o in outs).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match='feature maps'):
        neck(feats[:2], t)
    with pytest.raises(ValueError, match=r'expected \(B, 8, H, W\)'):
        neck([feats[1]] + feats[1:], t)


def test_state_dict_of_the_old_layout_loads():
    """Before the fusion was a module of its own the late neck held
    ``pwams``/``gates`` itself; such state dicts are renamed on load."""
    torch.manual_seed(0)
    neck = LAVTFusionNeck(in_channels=[8, 16], text_channels=4,
                          gate_init='default')
    assert all(k.startswith('fusion.') for k in neck.state_dict())
    old = {k[len('fusion.'):]: v + 1 for k, v in neck.state_dict().items()}
    other = LAVTFusionNeck(in_channels=[8, 16], text_channels=4)
    other.load_state_dict(old, strict=True)
    for key, value in other.state_dict().items():
        torch.testing.assert_close(value, old[key[len('fusion.'):]])
