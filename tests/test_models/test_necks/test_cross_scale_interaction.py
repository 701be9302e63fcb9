"""RMSIN's cross-scale interaction module at any widths and input sizes."""
import pytest
import torch

from mmrrsis.models.necks import CrossScaleInteraction
from mmrrsis.models.necks.cross_scale_interaction import (
    CrossScaleAttention,
    strided_size,
)
from mmrrsis.models.utils import takes_text


def test_parameter_count_of_the_reference_layout():
    """At Swin-B widths: 9,492,246 parameters, as counted on RMSIN's CIM
    (dim 1920, 15x15 grid, 314 attention tokens)."""
    neck = CrossScaleInteraction()
    assert sum(p.numel() for p in neck.parameters()) == 9_492_246
    attn = neck.blocks[0].attn1
    assert attn.token_proj.in_features == 225 + 64 + 25
    assert attn.token_proj.out_features == 225
    assert attn.qkv.out_features == 2 * 32 * 8 + 64 * 8
    assert [strided_size(15, 3, 2), strided_size(15, 5, 3)] == [8, 5]
    assert not takes_text(neck)  # language never reaches the CIM


@pytest.mark.parametrize('size,grid', [(32, 2), (48, 2), (40, 4)])
def test_any_size_same_shapes_out(size, grid, helpers):
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    neck = CrossScaleInteraction(
        chans, grid_size=grid, key_dims=4, num_heads=2).eval()
    feats = helpers.make_feats(chans, size=size)
    outs = neck(feats)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    # every scale sees the others: changing the deepest map changes the
    # shallowest output
    deeper = list(feats)
    deeper[3] = feats[3] + 1
    assert not torch.allclose(neck(deeper)[0], outs[0])


def test_every_parameter_gets_a_gradient(helpers):
    torch.manual_seed(0)
    chans = [8, 16, 32, 64]
    neck = CrossScaleInteraction(chans, grid_size=3, key_dims=4,
                                 num_heads=2)
    outs = neck(helpers.make_feats(chans, size=48))
    sum((o * torch.randn_like(o)).sum() for o in outs).backward()
    for name, param in neck.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_attention_reads_values_in_memory_order():
    """The grid tokens' values (heads, hw, d) enter the depthwise conv as
    a (heads * d, h, w) map in memory order, as in the reference."""
    torch.manual_seed(0)
    attn = CrossScaleAttention(4, (3, 3), key_dims=2, num_heads=2).eval()
    seen = []
    attn.value_conv.register_forward_pre_hook(
        lambda m, args: seen.append(args[0]))
    x = torch.randn(1, 4, 3, 3)
    attn(x)
    x0 = attn.in_bn(x)
    tokens = torch.cat([x0.flatten(2), attn.down2(x0).flatten(2),
                        attn.down3(x0).flatten(2)], 2).transpose(1, 2)
    qkv = attn.qkv_bn(attn.qkv(tokens)[0][..., None, None])[..., 0, 0]
    v = qkv.reshape(-1, 2, 8)[:, :, 4:]  # per token: heads x (q2 k2 v4)
    grid_v = v[:9].permute(1, 0, 2)  # (heads, hw, d)
    expected = torch.nn.functional.hardswish(grid_v.reshape(1, 8, 3, 3))
    torch.testing.assert_close(seen[0], expected)


def test_invalid_settings(helpers):
    with pytest.raises(ValueError, match='divisible by 4'):
        CrossScaleInteraction([6, 16, 32, 64])
    neck = CrossScaleInteraction([8, 16, 32, 64], grid_size=2, key_dims=4,
                                 num_heads=2)
    with pytest.raises(ValueError, match='feature maps'):
        neck(helpers.make_feats([8, 16, 32]))
    with pytest.raises(ValueError, match='grid'):
        neck.blocks[0].attn1(torch.randn(1, 30, 3, 3))
