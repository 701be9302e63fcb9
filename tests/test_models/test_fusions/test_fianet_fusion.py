"""FIANet's fusion: the alignment block, the channel weighting, the stream
formula, the empty object mask, the frozen last stage."""
import pytest
import torch

from mmrrsis.models.fusions import (
    BaseFusion,
    ChannelWeighting,
    FIANetFusion,
    ObjectPositionAlignment,
)
from mmrrsis.models.fusions.pwam_fusion import instance_norm_tokens
from mmrrsis.models.utils import TextFeatures


def parts(helpers, object_real=(2, 0), position_real=(3, 4)):
    """A text record with object and position passes (B=2, L=20, C=16);
    the second expression has no object word."""
    text = helpers.make_text()
    objects = helpers.make_text(real=object_real, seed=1)
    positions = helpers.make_text(real=position_real, seed=2)
    return text._replace(phrases=dict(object=objects, position=positions))


def test_channel_weighting_is_squeeze_excitation():
    torch.manual_seed(0)
    weighting = ChannelWeighting(16)
    x = torch.randn(2, 12, 16)
    hidden = torch.relu(weighting.fc1(x.mean(1)))
    expected = torch.sigmoid(weighting.fc2(hidden)).unsqueeze(1)
    torch.testing.assert_close(weighting(x), expected)
    assert weighting.fc1.out_features == 2  # C / 8


def test_alignment_written_out(helpers):
    torch.manual_seed(0)
    align = ObjectPositionAlignment(8, text_channels=16)
    x = torch.randn(2, 12, 8)
    text = parts(helpers)
    objects, positions = text.phrases['object'], text.phrases['position']
    out = align(x, (3, 4), objects, positions)
    # the reference's branches, written out
    obj = align.object_attn(x, objects.words, objects.mask)
    obj = align.object_gate(obj) * obj
    pos = align.position_attn(x, positions.words, positions.mask)
    pos = pos.reshape(2, 3, 4, 8).permute(0, 3, 1, 2)
    stats = torch.cat([pos.mean(1, keepdim=True), pos.amax(1, keepdim=True)],
                      1)
    weight = torch.sigmoid(align.spatial_conv(stats)).permute(0, 2, 3, 1)
    torch.testing.assert_close(out, obj * weight.reshape(2, 12, 1))
    # no object word: zero keys and values, zero attention output, zero G
    assert out[1].abs().max() < 1e-5 and out[0].abs().max() > 1e-3
    assert not align.object_embed.weight.requires_grad  # unused, frozen
    # the spatial map depends on the (H, W) layout
    assert not torch.allclose(align(x, (4, 3), objects, positions), out)


def test_word_attention_of_an_empty_mask_is_zero(helpers):
    """The reference adds -1e4 to every score of such a row: a uniform
    softmax over zero values; ours masks them all: the same zero."""
    torch.manual_seed(0)
    align = ObjectPositionAlignment(8, text_channels=16)
    x = torch.randn(2, 12, 8)
    text = helpers.make_text(real=(0, 0))
    attn = align.object_attn
    lang = attn.out_proj(torch.zeros(2, 12, 8))  # uniform over zeros
    torch.testing.assert_close(
        attn(x, text.words, text.mask), instance_norm_tokens(lang))


def test_fuse_and_the_stream(helpers):
    torch.manual_seed(0)
    fusion = FIANetFusion(in_channels=[8, 16], text_channels=16,
                          gate_init='trunc_normal')
    assert isinstance(fusion, BaseFusion)
    x = torch.randn(2, 12, 16)
    text = parts(helpers)
    fused, stream = fusion.fuse(1, x, (3, 4), text)
    pwam = fusion.pwams[1](x, text.words, text.mask)
    aligned = fusion.alignments[1](x, (3, 4), text.phrases['object'],
                                   text.phrases['position'])
    weight = fusion.channel_weights[1](x)
    torch.testing.assert_close(fused, pwam)  # the ungated PWAM output
    torch.testing.assert_close(
        stream, x + (fusion.gates[1](pwam) * pwam + aligned) * weight)
    calls = []
    fusion.alignments[1].register_forward_pre_hook(lambda *a: calls.append(1))
    fused2, same = fusion.fuse(1, x, (3, 4), text, with_stream=False)
    assert same is x and calls == []
    torch.testing.assert_close(fused2, fused)
    assert fusion.stream_modules(1) == [
        fusion.gates[1], fusion.alignments[1], fusion.channel_weights[1]
    ]
    # without the phrase passes: an error naming what is missing
    with pytest.raises(KeyError, match='phrase "object".*PhraseBert'):
        fusion.fuse(0, torch.randn(2, 12, 8), (3, 4),
                    TextFeatures(text.words, text.mask))


def test_initialisation_as_the_reference():
    torch.manual_seed(0)
    fusion = FIANetFusion(in_channels=[64, 128], text_channels=16,
                          gate_init='trunc_normal')
    fusion.init_weights()
    weighting = fusion.channel_weights[1]
    assert weighting.fc1.weight.std() < 0.03 and \
        weighting.fc1.bias.abs().max() == 0
    gate = fusion.alignments[1].object_gate[0].weight
    assert 0.01 < gate.std() < 0.03
    # the attentions keep PyTorch's default (the reference's Conv1d)
    query = fusion.alignments[1].object_attn.query_proj.weight
    assert query.abs().max() <= 128**-0.5 + 1e-6 and query.std() > 0.03
