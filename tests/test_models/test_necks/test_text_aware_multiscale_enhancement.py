"""FIANet's TMEM neck: shapes, the pooled grid, the text, the blocks."""
import pytest
import torch
import torch.nn.functional as F

from mmrrsis.models.necks import TextAwareMultiScaleEnhancement, TMEMBlock
from mmrrsis.models.utils import TextFeatures

CHANNELS = [8, 16, 32, 64]


def test_shapes_and_the_text(helpers):
    torch.manual_seed(0)
    neck = TextAwareMultiScaleEnhancement(
        CHANNELS, text_channels=16, num_blocks=2).eval()
    feats = helpers.make_feats(CHANNELS, size=24)
    text = helpers.make_text()
    outs = neck(feats, text)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    assert neck.reduce.out_channels == sum(CHANNELS) // 4 == 30
    assert len(neck.blocks) == 2
    # padded words do not matter, real ones do
    words = text.words.clone()
    words[text.mask == 0] = 50.
    for a, b in zip(neck(feats, TextFeatures(words, text.mask)), outs):
        torch.testing.assert_close(a, b)
    words = text.words.clone()
    words[0, 1] += 1.
    changed = neck(feats, TextFeatures(words, text.mask))
    assert not torch.allclose(changed[0][0], outs[0][0])
    torch.testing.assert_close(changed[0][1], outs[0][1])


def test_grid_is_the_last_map_and_gated_back(helpers):
    torch.manual_seed(0)
    neck = TextAwareMultiScaleEnhancement(
        CHANNELS, text_channels=16).eval()
    feats = helpers.make_feats(CHANNELS, size=20)  # last map 2.5 -> 2x2
    text = helpers.make_text()
    grids = []
    neck.blocks[0].register_forward_pre_hook(
        lambda m, args: grids.append(args[0].shape))
    outs = neck(feats, text)
    assert grids == [(2, feats[-1].shape[2] * feats[-1].shape[3], 30)]
    # written out
    grid = neck.reduce(torch.cat(
        [F.adaptive_avg_pool2d(f, feats[-1].shape[2:]) for f in feats], 1))
    B, D, h, w = grid.shape
    tokens = neck.blocks[0](grid.flatten(2).transpose(1, 2), text)
    grid = neck.expand(neck.out_bn(tokens.transpose(1, 2).reshape(
        B, D, h, w)))
    expected = neck.gates[2](feats[2], grid.split(CHANNELS, 1)[2])
    torch.testing.assert_close(outs[2], expected)


def test_block_is_pre_norm_attention_and_ffn(helpers):
    torch.manual_seed(0)
    block = TMEMBlock(12, text_channels=16)
    x = torch.randn(2, 9, 12)
    text = helpers.make_text()
    mid = x + block.attn(block.norm1(x), text.words, text.mask)
    torch.testing.assert_close(block(x, text),
                               mid + block.ffn(block.norm2(mid)))
    assert block.ffn[0].out_features == 24


def test_bad_inputs_are_named(helpers):
    neck = TextAwareMultiScaleEnhancement(CHANNELS, text_channels=16)
    with pytest.raises(ValueError, match='expected 4 feature maps'):
        neck(helpers.make_feats(CHANNELS[:3]), helpers.make_text())
    with pytest.raises(ValueError, match='divisible by 4'):
        TextAwareMultiScaleEnhancement([3, 2], text_channels=16)
