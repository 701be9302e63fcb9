"""A convolutional LSTM with layer norm and peepholes, as RRN, LSCM and
CMPC use it to refine multi-level maps (their ``util/cell.py``,
``ConvLSTMCell``)."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .multimodal_layers import SameConv2d


class ConvLSTMCell(nn.Module):
    """One step of a convolutional LSTM (the references' ``ConvLSTMCell``
    with ``normalize=True, peephole=True``).

    With input X, state (c, h) and ``*`` the convolution of ``[X; h]``
    (no bias)::

        j, i, f, o = split(W * [X; h])
        i = i + P_i . c        f = f + P_f . c          (peepholes)
        j, i, f = LN(j), LN(i), LN(f)
        c' = c . sigmoid(f + forget_bias) + sigmoid(i) . tanh(j)
        o  = LN(o + P_o . c');  c' = LN(c')
        h' = sigmoid(o) . tanh(c')

    LN normalises a map over all its channels and pixels together with a
    per-channel scale and shift (TF ``layer_norm`` on (H, W, C); here
    ``GroupNorm(1, C)``, eps 1e-12 as TF's). The peepholes P are maps of
    one weight per channel and pixel, (C, H, W), as in the reference, whose
    grid is fixed (40 x 40 at 320 x 320). On another grid they are resized
    bilinearly; at ``feat_size`` they are used as they are.

    Args:
        in_channels (int): Channels of X.
        hidden_channels (int): Channels of c and h.
        kernel_size (int): Convolution kernel. Defaults to 1 (the
            references').
        feat_size (tuple[int, int]): The grid of the peepholes. Defaults
            to (40, 40).
        forget_bias (float): Defaults to 1.0.
        eps (float): Layer-norm epsilon. Defaults to 1e-12.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 1,
                 feat_size: Tuple[int, int] = (40, 40),
                 forget_bias: float = 1.0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.forget_bias = forget_bias
        self.feat_size = tuple(feat_size)
        self.conv = SameConv2d(
            in_channels + hidden_channels,
            4 * hidden_channels,
            kernel_size,
            bias=False)
        h, w = self.feat_size
        # TF's default Glorot-uniform of a (H, W, C) variable
        limit = math.sqrt(6. / (h * w + h * hidden_channels))
        self.peephole_i = nn.Parameter(
            torch.empty(hidden_channels, h, w).uniform_(-limit, limit))
        self.peephole_f = nn.Parameter(
            torch.empty(hidden_channels, h, w).uniform_(-limit, limit))
        self.peephole_o = nn.Parameter(
            torch.empty(hidden_channels, h, w).uniform_(-limit, limit))
        self.norm_j = nn.GroupNorm(1, hidden_channels, eps=eps)
        self.norm_i = nn.GroupNorm(1, hidden_channels, eps=eps)
        self.norm_f = nn.GroupNorm(1, hidden_channels, eps=eps)
        self.norm_o = nn.GroupNorm(1, hidden_channels, eps=eps)
        self.norm_c = nn.GroupNorm(1, hidden_channels, eps=eps)

    def _peephole(self, weight: Tensor, size: Sequence[int]) -> Tensor:
        size = tuple(int(n) for n in size)
        if size == self.feat_size:
            return weight
        return F.interpolate(
            weight[None], size=tuple(size), mode='bilinear',
            align_corners=False)[0]

    def forward(self, x: Tensor,
                state: Optional[Tuple[Tensor, Tensor]] = None
                ) -> Tuple[Tensor, Tensor]:
        """One step.

        Args:
            x (Tensor): (B, C_in, H, W).
            state (tuple[Tensor, Tensor], optional): (c, h), each
                (B, C, H, W); None starts from zeros. Defaults to None.

        Returns:
            tuple[Tensor, Tensor]: The new (c, h).
        """
        b, _, height, width = x.shape
        if state is None:
            zeros = x.new_zeros(b, self.hidden_channels, height, width)
            state = (zeros, zeros)
        c, h = state
        size = (height, width)
        j, i, f, o = self.conv(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        i = i + self._peephole(self.peephole_i, size) * c
        f = f + self._peephole(self.peephole_f, size) * c
        j, i, f = self.norm_j(j), self.norm_i(i), self.norm_f(f)
        c = c * torch.sigmoid(f + self.forget_bias) + torch.sigmoid(
            i) * torch.tanh(j)
        o = self.norm_o(o + self._peephole(self.peephole_o, size) * c)
        c = self.norm_c(c)
        h = torch.sigmoid(o) * torch.tanh(c)
        return c, h


class ConvLSTM(nn.Module):
    """Run a :class:`ConvLSTMCell` over a sequence of maps and return the
    last output (the references' ``tf.nn.dynamic_rnn(ConvLSTMCell)``,
    ``outputs[:, -1]``).

    Args:
        in_channels (int): Channels of each map.
        hidden_channels (int): Channels of the state and the output.
        kernel_size (int): Defaults to 1.
        feat_size (tuple[int, int]): Peephole grid. Defaults to (40, 40).
        forget_bias (float): Defaults to 1.0.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 1,
                 feat_size: Tuple[int, int] = (40, 40),
                 forget_bias: float = 1.0) -> None:
        super().__init__()
        self.cell = ConvLSTMCell(in_channels, hidden_channels, kernel_size,
                                 feat_size, forget_bias)

    def forward(self, sequence: Sequence[Tensor]) -> Tensor:
        """Read the maps in order.

        Args:
            sequence (Sequence[Tensor]): Maps (B, C_in, H, W), all on one
                grid.

        Returns:
            Tensor: (B, C, H, W) the output after the last map.
        """
        state = None
        for x in sequence:
            state = self.cell(x, state)
        return state[1]


__all__ = ['ConvLSTMCell', 'ConvLSTM']
