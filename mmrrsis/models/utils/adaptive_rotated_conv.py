"""Adaptive rotated convolution (RMSIN's decoder), in plain torch."""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.utils import OptMultiConfig

# Rotation of a 3x3 kernel by 0 <= theta <= 45 degrees, counter-clockwise,
# cells numbered row-major 0..8. Each rotated cell i is a mix of source
# cells: a corner between itself and the next cell along the ring, an edge
# cell over the 2x2 block it turns into (weights in c = cos, s = sin,
# p = c * s). Entries (i, j, t): rotated cell i takes term t of
# :func:`_ring_rotation` times source cell j; the centre stays.
_POSITIVE = (
    (0, 0, 0), (0, 1, 1),
    (1, 1, 2), (1, 2, 3), (1, 4, 4), (1, 5, 5),
    (2, 2, 0), (2, 5, 1),
    (3, 0, 3), (3, 1, 5), (3, 3, 2), (3, 4, 4),
    (5, 4, 4), (5, 5, 2), (5, 7, 5), (5, 8, 3),
    (6, 3, 1), (6, 6, 0),
    (7, 3, 5), (7, 4, 4), (7, 6, 3), (7, 7, 2),
    (8, 7, 1), (8, 8, 0),
)
# cell i of the mirrored kernel (columns reversed), and one quarter turn
# counter-clockwise: rotated cell (r, c) takes source cell (c, 2 - r)
_MIRROR = (2, 1, 0, 5, 4, 3, 8, 7, 6)
_QUARTER = tuple(3 * (i % 3) + 2 - i // 3 for i in range(9))


def _ring_rotation(cos: Tensor, sin: Tensor) -> Tensor:
    """(N, 9, 9) matrices rotating a 3x3 kernel by angles in [0, 45]."""
    prod = cos * sin
    terms = torch.stack([
        cos - sin, 1 - (cos - sin), cos - prod, prod,
        1 - cos - sin + prod, sin - prod
    ], dim=-1)  # (N, 6)
    rot = cos.new_zeros(cos.shape[0], 9, 9)
    rows, cols, which = (torch.tensor(v) for v in zip(*_POSITIVE))
    rot[:, rows, cols] = terms[:, which]
    rot[:, 4, 4] = 1
    return rot


def _permutation(order: Tuple[int, ...], like: Tensor) -> Tensor:
    """The 9x9 matrix P with (P w)[i] = w[order[i]]."""
    return torch.eye(9, dtype=like.dtype, device=like.device)[list(order)]


def kernel_rotation_matrix(thetas: Tensor) -> Tensor:
    """Matrices that rotate a flattened 3x3 kernel by ``thetas``.

    For |theta| <= 45 degrees this is RMSIN's interpolation (the angles its
    routing can produce are within +-40 degrees): a positive angle turns
    the kernel counter-clockwise, a negative one is the mirror image of
    the positive turn (mirror, rotate by |theta|, mirror). Larger angles
    are taken as exact quarter turns plus a rest in [-45, 45] degrees, so
    90 degrees is ``torch.rot90`` of the kernel.

    Args:
        thetas (Tensor): (N, ) angles in radians.

    Returns:
        Tensor: (N, 9, 9) matrices R with ``rotated = R @ kernel.flatten()``
        (cells row-major).
    """
    quarters = torch.round(thetas / (math.pi / 2))
    rest = thetas - quarters * (math.pi / 2)
    ring = _ring_rotation(torch.cos(rest.abs()), torch.sin(rest.abs()))
    mirror = _permutation(_MIRROR, thetas)
    mirrored = mirror @ ring @ mirror
    ring = torch.where((rest >= 0)[:, None, None], ring, mirrored)
    turns = [torch.eye(9, dtype=thetas.dtype, device=thetas.device)]
    quarter = _permutation(_QUARTER, thetas)
    for _ in range(3):
        turns.append(quarter @ turns[-1])
    turn = torch.stack(turns)[quarters.long() % 4]
    return ring @ turn


def rotate_kernels(weight: Tensor, scales: Tensor, thetas: Tensor) -> Tensor:
    """Per-sample mixtures of rotated 3x3 kernels.

    Args:
        weight (Tensor): (n, C_out, C_in, 3, 3) the n kernels.
        scales (Tensor): (B, n) weight of each kernel per sample.
        thetas (Tensor): (B, n) rotation angle (radians) of each kernel
            per sample.

    Returns:
        Tensor: (B * C_out, C_in, 3, 3) one kernel per sample, for a
        grouped convolution over the batch:
        ``sum_k scales[b, k] * rotate(weight[k], thetas[b, k])``.
    """
    B, n = thetas.shape
    _, c_out, c_in, kh, kw = weight.shape
    if (kh, kw) != (3, 3):
        raise ValueError('Only 3x3 kernels can be rotated, got '
                         f'{kh}x{kw}.')
    rot = kernel_rotation_matrix(thetas.reshape(-1)).reshape(B, n, 9, 9)
    rot = rot * scales[..., None, None]
    cells = weight.reshape(n, c_out, c_in, 9)
    rotated = torch.einsum('bkij,kocj->boci', rot, cells)
    return rotated.reshape(B * c_out, c_in, 3, 3)


class RotationRouting(BaseModule):
    """Predict per-sample kernel weights and angles (RMSIN's routing).

    ``x -> depthwise 3x3 -> LayerNorm over channels -> ReLU -> mean over
    pixels``, then ``scales = sigmoid(fc_alpha(dropout(.)))`` and ``thetas
    = softsign(fc_theta(dropout(.))) * max_angle``.

    The LayerNorm is named ``ln``, not ``norm``: the reference decays every
    decoder parameter, and the schedule's no-decay key is ``'norm'``.

    Args:
        in_channels (int): Channels C of the input.
        kernel_number (int): Kernels n mixed per sample. Defaults to 1.
        dropout (float): Dropout before the two heads. Defaults to 0.2.
        max_angle (float): Largest angle in degrees. Defaults to 40.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 kernel_number: int = 1,
                 dropout: float = 0.2,
                 max_angle: float = 40.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.max_angle = math.radians(max_angle)
        self.dwc = nn.Conv2d(
            in_channels, in_channels, 3, padding=1, groups=in_channels,
            bias=False)
        self.ln = nn.LayerNorm(in_channels)
        self.dropout = nn.Dropout(dropout)
        self.fc_alpha = nn.Linear(in_channels, kernel_number)
        self.fc_theta = nn.Linear(in_channels, kernel_number, bias=False)
        for weight in (self.dwc.weight, self.fc_alpha.weight,
                       self.fc_theta.weight):
            nn.init.trunc_normal_(weight, std=.02)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Kernel weights and angles.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            tuple[Tensor, Tensor]: ``scales`` (B, n) in (0, 1) and
            ``thetas`` (B, n) in radians, |theta| < ``max_angle``.
        """
        x = self.ln(self.dwc(x).permute(0, 2, 3, 1)).relu()
        x = x.mean(dim=(1, 2))
        scales = torch.sigmoid(self.fc_alpha(self.dropout(x)))
        thetas = F.softsign(self.fc_theta(self.dropout(x)))
        return scales, thetas * self.max_angle


class AdaptiveRotatedConv2d(BaseModule):
    """3x3 convolution whose kernel each sample rotates by its own angle.

    A routing branch (:class:`RotationRouting`) looks at the input and
    gives each sample b weights ``a_bk`` and angles ``t_bk`` for the n
    kernels ``W_k``; the sample is convolved with ``sum_k a_bk
    rotate(W_k, t_bk)`` (:func:`rotate_kernels`, a grouped convolution
    over the batch). With angle 0 this is a plain convolution with the
    kernel ``a_b W``. It has no bias (as in RMSIN) and computes with plain
    torch operations, no compiled op.

    Usable as the conv of mmcv's ``ConvModule``:
    ``conv_cfg=dict(type=AdaptiveRotatedConv2d, kernel_number=1)``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Must be 3. Defaults to 3.
        stride (int): Defaults to 1.
        padding (int): Defaults to 1.
        dilation (int): Defaults to 1.
        groups (int): Defaults to 1.
        bias (bool): Must be False. Defaults to False.
        kernel_number (int): Kernels mixed per sample. Defaults to 1.
        routing_dropout (float): Dropout of the routing. Defaults to 0.2.
        max_angle (float): Largest angle in degrees. Defaults to 40.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    transposed = False
    output_padding = (0, 0)

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 stride: int = 1,
                 padding: int = 1,
                 dilation: int = 1,
                 groups: int = 1,
                 bias: bool = False,
                 kernel_number: int = 1,
                 routing_dropout: float = 0.2,
                 max_angle: float = 40.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel_size not in (3, (3, 3)):
            raise ValueError('AdaptiveRotatedConv2d rotates 3x3 kernels only, '
                             f'got kernel_size={kernel_size}.')
        if bias:
            raise ValueError('AdaptiveRotatedConv2d has no bias.')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (3, 3)
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.kernel_number = kernel_number
        self.weight = nn.Parameter(
            torch.empty(kernel_number, out_channels, in_channels // groups,
                        3, 3))
        nn.init.kaiming_normal_(self.weight, mode='fan_out',
                                nonlinearity='relu')
        self.routing = RotationRouting(in_channels, kernel_number,
                                       routing_dropout, max_angle)

    def forward(self, x: Tensor) -> Tensor:
        """Convolve each sample with its rotated kernel.

        Args:
            x (Tensor): (B, C_in, H, W).

        Returns:
            Tensor: (B, C_out, H', W').
        """
        scales, thetas = self.routing(x)
        weight = rotate_kernels(self.weight, scales, thetas)
        B, _, H, W = x.shape
        out = F.conv2d(
            x.reshape(1, -1, H, W),
            weight,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups * B)
        return out.reshape(B, self.out_channels, *out.shape[2:])

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, kernel_size=3, '
                f'kernel_number={self.kernel_number}, stride={self.stride}, '
                f'padding={self.padding}')


__all__ = [
    'AdaptiveRotatedConv2d', 'RotationRouting', 'kernel_rotation_matrix',
    'rotate_kernels'
]
