"""Layers shared by the CNN + LSTM referring models (LSCM, CMPC).

Both references are TensorFlow 1 code built from the same pieces (LSCM's
``LSCM_model_p2345.py`` and CMPC's ``CMPC_model.py``):

- ``_conv``: a convolution with TF's ``'SAME'`` padding, Glorot-uniform
  weights and zero bias (:class:`SameConv2d`; the 1x1 convolutions they run
  over word features, shaped (B, 1, T, C), are linear layers:
  :func:`glorot_linear`);
- ``tf.nn.l2_normalize`` over channels (:func:`l2_normalize`);
- ``generate_spatial_batch``: 8 coordinate channels per pixel
  (:func:`spatial_coordinates`);
- ``mutan_fusion``: five MUTAN-style heads fusing a pixel map with a
  sentence vector (:class:`MutanFusion`).
"""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: ``tf.nn.l2_normalize`` divides by sqrt(max(sum x^2, 1e-12)).
L2_EPS = 1e-6


def l2_normalize(x: Tensor, dim: int = 1) -> Tensor:
    """``x / max(||x||, 1e-6)`` along ``dim`` (TF's ``l2_normalize``)."""
    return F.normalize(x, p=2., dim=dim, eps=L2_EPS)


def glorot_uniform_(weight: Tensor, fan_in: int, fan_out: int) -> Tensor:
    """Fill ``weight`` from U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6. / (fan_in + fan_out))
    with torch.no_grad():
        return weight.uniform_(-limit, limit)


def glorot_linear(in_features: int, out_features: int,
                  heads: int = 1) -> nn.Linear:
    """A linear layer initialised as the references' 1x1 ``_conv`` on word
    features: Glorot-uniform weights (per head, when ``heads`` stacked
    layers share one matrix) and zero bias."""
    layer = nn.Linear(in_features, out_features * heads)
    glorot_uniform_(layer.weight, in_features, out_features)
    nn.init.zeros_(layer.bias)
    return layer


def tf_same_padding(size: int, kernel: int, stride: int,
                    dilation: int = 1) -> Tuple[int, int]:
    """TF's ``'SAME'`` padding of one axis: (before, after); the extra
    pixel of an odd total goes after."""
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TF's ``'SAME'`` padding, Glorot-uniform weights
    and zero bias (the references' ``_conv``).

    For stride 1 and an odd kernel this is the usual symmetric padding; for
    stride 2 TF pads the extra pixel at the bottom and right only, which
    this layer reproduces (a symmetric padding would shift the sampling
    grid by a pixel).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Square kernel. Defaults to 1.
        stride (int): Stride. Defaults to 1.
        heads (int): ``out_channels`` is ``heads`` stacked layers of
            ``out_channels / heads`` outputs each, initialised as separate
            layers (MUTAN). Defaults to 1.
        bias (bool): Add a bias. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 heads: int = 1,
                 bias: bool = True) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=0,
            bias=bias)
        area = kernel_size * kernel_size
        glorot_uniform_(self.weight, in_channels * area,
                        out_channels // heads * area)
        if bias:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Convolve with TF's ``'SAME'`` padding.

        Args:
            x (Tensor): (B, C_in, H, W).

        Returns:
            Tensor: (B, C_out, ceil(H / stride), ceil(W / stride)).
        """
        k, s = self.kernel_size[0], self.stride[0]
        if k > 1 or s > 1:
            top, bottom = tf_same_padding(int(x.shape[-2]), k, s)
            left, right = tf_same_padding(int(x.shape[-1]), k, s)
            x = F.pad(x, (left, right, top, bottom))
        return super().forward(x)


def spatial_coordinates(batch: int, height: int, width: int,
                        device=None, dtype=None) -> Tensor:
    """The 8 coordinate channels of every cell of a feature grid.

    Per cell (x_min, y_min, x_max, y_max, x_ctr, y_ctr, 1 / W, 1 / H) in
    [-1, 1] image coordinates (the references' ``generate_spatial_batch``).

    Args:
        batch (int): B.
        height (int): H.
        width (int): W.
        device (torch.device, optional): Defaults to None.
        dtype (torch.dtype, optional): Defaults to None (float32).

    Returns:
        Tensor: (B, 8, H, W).
    """
    ys = torch.arange(height, device=device, dtype=torch.float64)
    xs = torch.arange(width, device=device, dtype=torch.float64)
    x_min = (xs / width * 2 - 1)[None].expand(height, width)
    x_max = ((xs + 1) / width * 2 - 1)[None].expand(height, width)
    y_min = (ys / height * 2 - 1)[:, None].expand(height, width)
    y_max = ((ys + 1) / height * 2 - 1)[:, None].expand(height, width)
    coords = torch.stack([
        x_min, y_min, x_max, y_max, (x_min + x_max) / 2,
        (y_min + y_max) / 2,
        torch.full_like(x_min, 1. / width),
        torch.full_like(x_min, 1. / height)
    ])
    return coords.to(dtype or torch.float32)[None].expand(batch, -1, -1, -1)


class MutanFusion(nn.Module):
    """Fuse a pixel map with one sentence vector, MUTAN style (the
    references' ``mutan_fusion`` / ``mutan_head``).

    With V the visual map, S its coordinate channels and l the sentence
    vector, over K heads::

        h_k = tanh(W_k [V; S]) * tanh(U_k l)          (1x1 conv, linear)
        F   = l2_normalize(tanh(sum_k h_k))           over channels

    Args:
        vis_channels (int): Channels of V (and of F).
        text_channels (int): Width of l.
        num_heads (int): K. Defaults to 5 (the references').
        coord_channels (int): Channels of S. Defaults to 8.
    """

    def __init__(self,
                 vis_channels: int,
                 text_channels: int,
                 num_heads: int = 5,
                 coord_channels: int = 8) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.vis_channels = vis_channels
        self.vis_trans = SameConv2d(
            vis_channels + coord_channels,
            vis_channels * num_heads,
            heads=num_heads)
        self.lang_trans = glorot_linear(text_channels, vis_channels,
                                        num_heads)

    def forward(self, visual: Tensor, coords: Tensor,
                sentence: Tensor) -> Tensor:
        """Fuse.

        Args:
            visual (Tensor): (B, C_v, H, W).
            coords (Tensor): (B, 8, H, W) from :func:`spatial_coordinates`.
            sentence (Tensor): (B, C_t).

        Returns:
            Tensor: (B, C_v, H, W), unit length over channels.
        """
        b, _, h, w = visual.shape
        vis = torch.tanh(self.vis_trans(torch.cat([visual, coords], dim=1)))
        vis = vis.view(b, self.num_heads, self.vis_channels, h, w)
        lang = torch.tanh(self.lang_trans(sentence)).view(
            b, self.num_heads, self.vis_channels, 1, 1)
        return l2_normalize(torch.tanh((vis * lang).sum(dim=1)), dim=1)


__all__ = [
    'L2_EPS', 'l2_normalize', 'glorot_uniform_', 'glorot_linear',
    'tf_same_padding', 'SameConv2d', 'spatial_coordinates', 'MutanFusion'
]
