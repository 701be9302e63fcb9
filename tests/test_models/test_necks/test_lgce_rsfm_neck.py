import pytest
import torch

from mmrrsis.models.necks import LGCERSFMNeck
from mmrrsis.models.utils import TextFeatures

CHANS = [16, 32, 64, 128]


def count(*modules):
    return sum(p.numel() for mod in modules for p in mod.parameters())


def test_parameter_layout_of_the_re_implementation():
    """The re-implementation's layout at Swin-B widths (text 768)."""
    neck = LGCERSFMNeck(unused_patch_embed=True)
    assert neck.scales == [2, 3]
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
    assert count(LGCERSFMNeck()) == 35_826_688
    # no qkv bias, MLP ratio 2, heads 8 and 16
    block = neck.branches[1][0]
    assert block.attn.q.bias is None and block.attn.num_heads == 16
    assert block.mlp[0].out_features == 2048
    assert neck.cross_attns[0].num_heads == 16  # branch 0 -> width 1024


UNUSED = ('to_other', 'cross_norms', 'cross_attns', 'from_other',
          'unused_patch_embeds')


def test_behaviour_and_no_discarded_computation(helpers):
    torch.manual_seed(0)
    neck = LGCERSFMNeck(
        in_channels=CHANS, text_channels=24, num_heads=(4, 8),
        unused_patch_embed=True)
    calls = []
    for name in UNUSED:
        getattr(neck, name).register_forward_pre_hook(
            lambda *args, name=name: calls.append(name))
    x = helpers.make_feats(CHANS)
    t = helpers.make_text(channels=24, seed=1)
    outs = neck(x, t)
    assert [o.shape for o in outs] == [f.shape for f in x]
    assert outs[0] is x[0] and outs[1] is x[1]
    # the exchange whose result the re-implementation drops is not run
    assert calls == []
    # plain mean over all positions: padding changes the output
    w_pad = t.words.clone()
    w_pad[t.mask == 0] += 1.
    assert not torch.allclose(neck(x, TextFeatures(w_pad, t.mask))[2],
                              outs[2])
    # the exchange's layers are frozen; everything else trains
    sum(o.sum() for o in outs[2:]).backward()
    for name, param in neck.named_parameters():
        if name.startswith(UNUSED):
            assert not param.requires_grad and param.grad is None, name
        else:
            assert param.requires_grad, name
            assert param.grad is not None and param.grad.abs().sum() > 0, \
                name


def test_invalid_settings(helpers):
    with pytest.raises(ValueError, match='two branches'):
        LGCERSFMNeck(scales=(1, 2, 3))
    with pytest.raises(ValueError, match='feature maps'):
        LGCERSFMNeck(in_channels=CHANS, text_channels=24, num_heads=(4, 8))(
            helpers.make_feats(CHANS)[:3],
            helpers.make_text(channels=24, seed=1))
