"""The adaptive rotated convolution against plain convolutions: angle 0,
90 degrees, mirrored angles, a different angle per sample."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from mmrrsis.models.utils import (
    AdaptiveRotatedConv2d,
    kernel_rotation_matrix,
    rotate_kernels,
)


def rotated(conv, x, thetas, scales=None):
    """Run ``conv`` with the routing replaced by fixed angles/scales."""
    B = x.shape[0]
    scales = torch.ones(B, 1) if scales is None else scales
    conv.routing.forward = lambda inp: (scales, thetas)
    return conv(x)


@pytest.fixture
def conv():
    torch.manual_seed(0)
    return AdaptiveRotatedConv2d(4, 6).eval()


def test_angle_zero_is_a_plain_convolution(conv):
    x = torch.randn(2, 4, 9, 11)
    scales = torch.tensor([[0.3], [0.8]])
    out = rotated(conv, x, torch.zeros(2, 1), scales)
    for b in range(2):
        expected = F.conv2d(x[b:b + 1], scales[b] * conv.weight[0], padding=1)
        torch.testing.assert_close(out[b:b + 1], expected)


def test_ninety_degrees_is_the_rotated_kernel(conv):
    x = torch.randn(2, 4, 8, 8)
    out = rotated(conv, x, torch.full((2, 1), math.pi / 2))
    # counter-clockwise quarter turn of every 3x3 kernel
    kernel = torch.rot90(conv.weight[0], 1, dims=(-2, -1))
    torch.testing.assert_close(out, F.conv2d(x, kernel, padding=1))
    # the same turn as the image's: turning image and kernel together
    # turns the output
    turned = rotated(conv, torch.rot90(x, 1, dims=(-2, -1)),
                     torch.full((2, 1), math.pi / 2))
    plain = F.conv2d(x, conv.weight[0], padding=1)
    torch.testing.assert_close(turned, torch.rot90(plain, 1, dims=(-2, -1)))


def test_rotation_matrices():
    thetas = torch.tensor([0., 0.3, -0.3, math.pi / 2, -math.pi / 2, math.pi])
    rot = kernel_rotation_matrix(thetas)
    assert rot.shape == (6, 9, 9)
    torch.testing.assert_close(rot[0], torch.eye(9))
    # every rotated cell is a weighted mix summing to 1; the centre stays
    torch.testing.assert_close(rot.sum(-1), torch.ones(6, 9))
    assert (rot[:, 4] == torch.eye(9)[4]).all()
    # a negative angle is the mirror image of the positive one
    mirror = torch.eye(9)[[2, 1, 0, 5, 4, 3, 8, 7, 6]]
    torch.testing.assert_close(rot[2], mirror @ rot[1] @ mirror)
    # -90 is the inverse of +90, 180 is two quarter turns
    torch.testing.assert_close(rot[4] @ rot[3], torch.eye(9))
    torch.testing.assert_close(rot[5], rot[3] @ rot[3])
    # continuous where quarter turns take over
    near = kernel_rotation_matrix(
        torch.tensor([math.pi / 4 - 1e-4, math.pi / 4 + 1e-4]))
    torch.testing.assert_close(near[0], near[1], atol=1e-3, rtol=0)


def test_each_sample_uses_its_own_kernel(conv):
    x = torch.randn(3, 4, 7, 7)
    thetas = torch.tensor([[0.1], [-0.5], [0.6]])
    scales = torch.tensor([[1.], [0.5], [0.2]])
    batch = rotated(conv, x, thetas, scales)
    for b in range(3):
        kernel = rotate_kernels(conv.weight, scales[b:b + 1],
                                thetas[b:b + 1])
        torch.testing.assert_close(
            batch[b:b + 1], F.conv2d(x[b:b + 1], kernel, padding=1))


def test_mixture_of_kernels_and_routing_range():
    torch.manual_seed(0)
    conv = AdaptiveRotatedConv2d(4, 4, kernel_number=2).eval()
    x = torch.randn(2, 4, 6, 6)
    scales, thetas = conv.routing(x)
    assert scales.shape == thetas.shape == (2, 2)
    assert (scales > 0).all() and (scales < 1).all()
    assert thetas.abs().max() < math.radians(40)
    # the mixture is linear in the scales
    zero = torch.zeros(2, 2)
    one_each = rotate_kernels(conv.weight, torch.tensor([[1., 0.], [0., 1.]]),
                              zero)
    torch.testing.assert_close(one_each[:4], conv.weight[0])
    torch.testing.assert_close(one_each[4:], conv.weight[1])


def test_inside_conv_module_with_gradients():
    torch.manual_seed(0)
    module = ConvModule(
        4, 8, 3, padding=1, bias=False,
        conv_cfg=dict(type=AdaptiveRotatedConv2d),
        norm_cfg=dict(type='BN'))
    assert isinstance(module.conv, AdaptiveRotatedConv2d)
    out = module(torch.randn(2, 4, 10, 10))
    assert out.shape == (2, 8, 10, 10)
    out.square().mean().backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    # the routing's LayerNorm avoids the schedule's no-decay key 'norm'
    assert not any('norm' in n for n, _ in module.conv.named_parameters())


def test_invalid_settings():
    with pytest.raises(ValueError, match='3x3'):
        AdaptiveRotatedConv2d(4, 4, kernel_size=5)
    with pytest.raises(ValueError, match='bias'):
        AdaptiveRotatedConv2d(4, 4, bias=True)
    with pytest.raises(ValueError, match='3x3'):
        rotate_kernels(torch.zeros(1, 2, 2, 5, 5), torch.ones(1, 1),
                       torch.zeros(1, 1))
