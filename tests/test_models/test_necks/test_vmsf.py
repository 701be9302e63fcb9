"""VMSFNeck and LVMSFNeck (DiCoR's multi-scale fusion)."""
import pytest
import torch
from mmengine.runner.checkpoint import load_state_dict

from mmrrsis.models.necks import LVMSFNeck, VMSFNeck, vmsf
from mmrrsis.models.utils import TextFeatures

CHANS = [8, 16, 32, 64]  # sum 120, grid width 30


def test_vmsf_shapes_grid_and_parameter_count(helpers):
    torch.manual_seed(0)
    neck = VMSFNeck(CHANS, num_blocks=2, num_heads=5).eval()
    feats = helpers.make_feats(CHANS, size=32)
    outs = neck(feats)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    # the grid is the last scale's size (4x4 here), 30 channels
    grid = neck.grid(feats)
    assert grid.shape == (2, 30, 4, 4)
    # each output depends on its own scale and, through the grid, on the
    # others
    other = [f.clone() for f in feats]
    other[3] = torch.randn_like(other[3])
    assert not torch.allclose(neck(other)[0], outs[0])
    # Swin-B widths, 3 blocks, 8 heads: DiCoR's VMSF
    count = sum(p.numel() for p in VMSFNeck().parameters())
    assert count == 14_354_880


def test_vmsf_init_matches_the_reference_backbone_init():
    torch.manual_seed(0)
    neck = VMSFNeck(CHANS, num_blocks=1, num_heads=5)
    neck.init_weights()
    block = neck.blocks[0]
    assert (block.attn.out_proj.bias == 0).all()
    assert block.ffn.layers[1].weight.std() < 0.03  # trunc_normal(0.02)
    assert (block.norm1.weight == 1).all()


def test_lvmsf_depends_on_words_not_on_padding(helpers):
    torch.manual_seed(0)
    neck = LVMSFNeck(CHANS, text_channels=16, num_blocks=2, num_heads=2)
    neck.eval()
    feats = helpers.make_feats(CHANS, size=32)
    text = helpers.make_text(real=(5, 2), channels=16)
    outs = neck(feats, text)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    padded = text.words.clone()
    padded[text.mask == 0] = torch.randn(int((text.mask == 0).sum()), 16)
    for a, b in zip(neck(feats, TextFeatures(padded, text.mask)), outs):
        torch.testing.assert_close(a, b)
    other = text.words.clone()
    other[0, 1] += 1.
    assert not torch.allclose(
        neck(feats, TextFeatures(other, text.mask))[0][0], outs[0][0])
    count = sum(p.numel() for p in LVMSFNeck().parameters())
    assert count == 43_433_952


@pytest.mark.parametrize('carry', [True, False])
def test_coarse_vmsf_checkpoint_into_lvmsf(carry, monkeypatch):
    said = []
    monkeypatch.setattr(vmsf, 'print_log', lambda msg, **kw: said.append(msg))
    torch.manual_seed(0)
    coarse = VMSFNeck(CHANS, num_blocks=2, num_heads=2)
    torch.manual_seed(1)
    joint = LVMSFNeck(CHANS, text_channels=16, num_blocks=2, num_heads=2,
                      carry_vmsf_blocks=carry)
    before = {k: v.clone() for k, v in joint.state_dict().items()}
    # mmengine's loading (load_from), non-strict as the runner's
    load_state_dict(joint, coarse.state_dict(), strict=False,
                    logger='current')
    assert len(said) == 1
    after = joint.state_dict()
    coarse_state = coarse.state_dict()
    # the shared parts (reduce, BN, expand, gates) always load
    torch.testing.assert_close(after['gates.3.act_conv.weight'],
                               coarse_state['gates.3.act_conv.weight'])
    carried = 'blocks.1.self_attn.attn.in_proj_weight'
    if carry:
        torch.testing.assert_close(after[carried],
                                   coarse_state['blocks.1.attn.'
                                                'in_proj_weight'])
        assert 'they initialise blocks.*.self_attn' in said[0]
    else:
        torch.testing.assert_close(after[carried], before[carried])
        # every block key keeps its initialisation: 40 a block
        kept = [k for k in after if k.startswith('blocks.')
                and torch.equal(after[k], before[k])]
        assert len(kept) == 40 * 2
        assert 'as DiCoR\'s joint stage does' in said[0]
    # the cross-attention is new in both cases
    torch.testing.assert_close(after['blocks.0.text_attn.k_proj_weight'],
                               before['blocks.0.text_attn.k_proj_weight'])


def test_wrong_number_of_maps_is_refused(helpers):
    neck = VMSFNeck(CHANS, num_blocks=1, num_heads=5)
    with pytest.raises(ValueError, match='expected 4 feature maps'):
        neck(helpers.make_feats(CHANS)[:3])
    with pytest.raises(ValueError, match='multiple of 4'):
        VMSFNeck([8, 16, 32, 66])
