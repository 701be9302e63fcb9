"""RMSIN's cross-scale interaction module (CIM), for any widths and input
sizes."""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


def _bn(norm_cfg: dict, channels: int) -> nn.Module:
    return build_norm_layer(norm_cfg, channels)[1]


def _conv_bn(norm_cfg: dict, channels: int, kernel: int,
             stride: int) -> nn.Sequential:
    """Depthwise strided conv + BN (keys ``0.*``, ``1.*``)."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, kernel, stride, kernel // 2,
                  groups=channels), _bn(norm_cfg, channels))


def strided_size(size: int, kernel: int, stride: int) -> int:
    """Output size of a conv with padding ``kernel // 2``."""
    return (size + 2 * (kernel // 2) - kernel) // stride + 1


class CIMFeedForward(BaseModule):
    """BN, 1x1 conv to ``ratio * C``, BN, depthwise-grouped 3x3 conv,
    ReLU6, 1x1 conv back to C (no residual here).

    Args:
        channels (int): C.
        ratio (int): Hidden width over C. Defaults to 2.
        norm_cfg (dict): Norm layer. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 ratio: int = 2,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')
        hidden = ratio * channels
        self.bn1 = _bn(norm_cfg, channels)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.bn2 = _bn(norm_cfg, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, padding=1,
                                groups=channels)
        self.fc2 = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) in and out."""
        x = self.dwconv(self.bn2(self.fc1(self.bn1(x))))
        return self.fc2(F.relu6(x))


class CrossScaleAttention(BaseModule):
    """Attention over the pooled grid and two strided copies of it.

    With the grid map ``X`` (B, C, h, w) and ``X0 = BN(X)``, the tokens are
    those of ``X0``, of a depthwise 3x3 stride-2 copy and of a depthwise
    5x5 stride-3 copy (T = hw + h2 w2 + h3 w3; 225 + 64 + 25 = 314 at
    RMSIN's 15x15 grid). Multi-head attention over all T tokens
    (``num_heads`` heads, query/key width ``key_dims``, value width
    ``attn_ratio * key_dims``; q, k, v from one linear layer + BN), a
    linear map from the T token positions to the hw grid positions, plus
    a depthwise 3x3 conv of the grid tokens' values; then a linear layer
    back to C, BN, Hardswish and a 1x1 conv. The result is a (B, C, h, w)
    map; the caller adds it to ``X``.

    The reference reads two results in a memory order rather than by
    axis, and so does this module, so that its weights compute the same
    function: the grid tokens' values (heads, hw, d) are read as a
    (heads * d, h, w) map, and the attention output (T, heads * d) as a
    (heads * d, T) matrix before the token map.

    Args:
        channels (int): C.
        grid_size (tuple[int, int]): (h, w) of the grid.
        key_dims (int): Query/key width per head. Defaults to 32.
        num_heads (int): Heads. Defaults to 8.
        attn_ratio (int): Value width over ``key_dims``. Defaults to 2.
        norm_cfg (dict): Norm layer. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 grid_size: Tuple[int, int],
                 key_dims: int = 32,
                 num_heads: int = 8,
                 attn_ratio: int = 2,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')
        h, w = grid_size
        self.grid_size = (h, w)
        self.num_heads = num_heads
        self.key_dims = key_dims
        self.value_dims = attn_ratio * key_dims
        value_channels = self.value_dims * num_heads
        grid_tokens = h * w
        tokens = grid_tokens + sum(
            strided_size(h, k, s) * strided_size(w, k, s)
            for k, s in ((3, 2), (5, 3)))
        self.in_bn = _bn(norm_cfg, channels)
        self.down2 = _conv_bn(norm_cfg, channels, 3, 2)
        self.down3 = _conv_bn(norm_cfg, channels, 5, 3)
        self.qkv = nn.Linear(
            channels, value_channels + 2 * key_dims * num_heads, bias=False)
        self.qkv_bn = _bn(norm_cfg, self.qkv.out_features)
        self.value_conv = nn.Conv2d(
            value_channels, value_channels, 3, padding=1,
            groups=value_channels)
        self.token_proj = nn.Linear(tokens, grid_tokens)
        self.out_proj = nn.Linear(value_channels, channels)
        self.out_bn = _bn(norm_cfg, channels)
        self.out_conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, h, w) grid map in and out (the residual is the
        caller's)."""
        B, C, h, w = x.shape
        if (h, w) != self.grid_size:
            raise ValueError(f'CrossScaleAttention built for the grid '
                             f'{self.grid_size}, got {(h, w)}.')
        x0 = self.in_bn(x)
        tokens = torch.cat([
            m.flatten(2) for m in (x0, self.down2(x0), self.down3(x0))
        ], dim=2).transpose(1, 2)  # (B, T, C)
        T = tokens.shape[1]
        qkv = self.qkv(tokens)
        qkv = self.qkv_bn(qkv.reshape(B * T, -1, 1, 1)).reshape(B, T, -1)
        q, k, v = qkv.reshape(B, T, self.num_heads, -1).split(
            [self.key_dims, self.key_dims, self.value_dims], dim=3)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, heads, T, .)
        # the grid tokens' values read in memory order as a map
        grid_values = v[:, :, :h * w].reshape(B, -1, h, w)
        local = self.value_conv(F.hardswish(grid_values)).flatten(2)
        attn = (q @ k.transpose(-2, -1) * self.key_dims**-0.5).softmax(-1)
        # (B, T, heads * d) read in memory order as (B, heads * d, T)
        out = (attn @ v).transpose(1, 2).reshape(B, -1, T)
        out = self.token_proj(out) + local  # (B, heads * d, h w)
        out = self.out_proj(out.transpose(1, 2))  # (B, h w, C)
        out = out.transpose(1, 2).reshape(B, C, h, w)
        return self.out_conv(F.hardswish(self.out_bn(out)))


class ScaleAwareGate(BaseModule):
    """Put the interacted grid back onto one scale.

    ``Y = BN(conv(X)) * Up(hsigmoid(BN(conv(G)))) + Up(BN(conv(G)))``
    with 1x1 convs, ``X`` the scale's map and ``G`` its part of the grid,
    ``Up`` bilinear to the size of ``X``.

    Args:
        channels (int): Channels of X and G.
        norm_cfg (dict): Norm layer. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')
        self.local_conv = nn.Conv2d(channels, channels, 1)
        self.local_bn = _bn(norm_cfg, channels)
        self.global_conv = nn.Conv2d(channels, channels, 1)
        self.global_bn = _bn(norm_cfg, channels)
        self.act_conv = nn.Conv2d(channels, channels, 1)
        self.act_bn = _bn(norm_cfg, channels)

    def forward(self, x: Tensor, grid: Tensor) -> Tensor:
        """``x`` (B, C, H, W), ``grid`` (B, C, h, w) -> (B, C, H, W)."""
        size = x.shape[2:]

        def up(t):
            return F.interpolate(
                t, size=size, mode='bilinear', align_corners=False)

        local = self.local_bn(self.local_conv(x))
        act = up(F.hardsigmoid(self.act_bn(self.act_conv(grid))))
        return local * act + up(self.global_bn(self.global_conv(grid)))


class CIMBlock(BaseModule):
    """Attention, per-scale feed-forwards, attention, feed-forward, each
    with a residual, on the (B, D, h, w) grid.

    Args:
        channels (int): D, the grid width.
        scale_channels (Sequence[int]): Per-scale parts of D (their
            feed-forwards run separately).
        grid_size (tuple[int, int]): (h, w).
        mlp_ratio (int): Feed-forward hidden ratio. Defaults to 2.
        norm_cfg (dict): Norm layer. Defaults to BN.
        **attn_kwargs: ``key_dims``, ``num_heads``, ``attn_ratio`` of
            :class:`CrossScaleAttention`.
    """

    def __init__(self,
                 channels: int,
                 scale_channels: Sequence[int],
                 grid_size: Tuple[int, int],
                 mlp_ratio: int = 2,
                 norm_cfg: OptConfigType = None,
                 **attn_kwargs) -> None:
        super().__init__()
        self.scale_channels = list(scale_channels)
        self.attn1 = CrossScaleAttention(
            channels, grid_size, norm_cfg=norm_cfg, **attn_kwargs)
        self.scale_ffns = ModuleList([
            CIMFeedForward(c, mlp_ratio, norm_cfg)
            for c in self.scale_channels
        ])
        self.attn2 = CrossScaleAttention(
            channels, grid_size, norm_cfg=norm_cfg, **attn_kwargs)
        self.ffn = CIMFeedForward(channels, mlp_ratio, norm_cfg)

    def forward(self, x: Tensor) -> Tensor:
        """(B, D, h, w) in and out."""
        x = x + self.attn1(x)
        parts = x.split(self.scale_channels, dim=1)
        x = x + torch.cat(
            [p + ffn(p) for p, ffn in zip(parts, self.scale_ffns)], dim=1)
        x = x + self.attn2(x)
        return x + self.ffn(x)


@MODELS.register_module()
class CrossScaleInteraction(BaseModule):
    """RMSIN's cross-scale interaction module (CIM), as a neck.

    All scales ``F_1..F_n`` (B, C_i, H_i, W_i) are average-pooled to one
    grid and concatenated (D = sum C_i), reduced to D / 4 by a 1x1 conv,
    passed through ``num_blocks`` :class:`CIMBlock` (attention across the
    grid and its strided copies, feed-forwards per scale part C_i / 4 and
    over all), BN, expanded back to D; each scale's C_i channels are put
    back onto its own map by a :class:`ScaleAwareGate`. Same shapes out
    as in. The module sees no language (RMSIN's language enters only in
    the backbone's fusions), so it is a plain neck: ``forward(feats)``.

    The reference pools to the last stage's size and fixes the widths
    (128, 256, 512, 1024) and that size (15x15, so it runs only at
    480x480 with Swin-B). Here the widths come from ``in_channels`` (each
    divisible by 4) and the grid is ``grid_size``, whatever the input
    size: with the default 15x15 and Swin-B at 480x480 it is the
    reference's function (the last stage is already 15x15), and at other
    sizes the grid is pooled to (or up-sampled from) the maps in the same
    way. The attention's token map has a weight per token position, which
    is why the grid is fixed.

    Args:
        in_channels (Sequence[int]): C_1..C_n. Defaults to
            (128, 256, 512, 1024).
        grid_size (int | tuple[int, int]): The grid. Defaults to 15.
        num_blocks (int): CIM blocks. Defaults to 1.
        key_dims (int): Attention query/key width per head. Defaults to
            32.
        num_heads (int): Attention heads. Defaults to 8.
        attn_ratio (int): Value width over ``key_dims``. Defaults to 2.
        mlp_ratio (int): Feed-forward hidden ratio. Defaults to 2.
        norm_cfg (dict, optional): Norm layer (the reference's BNs are
            SyncBN in distributed training). Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None:
            PyTorch's default initialisation.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 grid_size=15,
                 num_blocks: int = 1,
                 key_dims: int = 32,
                 num_heads: int = 8,
                 attn_ratio: int = 2,
                 mlp_ratio: int = 2,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        if any(c % 4 for c in self.in_channels):
            raise ValueError('CrossScaleInteraction needs widths divisible '
                             f'by 4, got {self.in_channels}.')
        if isinstance(grid_size, int):
            grid_size = (grid_size, grid_size)
        self.grid_size = tuple(grid_size)
        norm_cfg = norm_cfg or dict(type='BN')
        total = sum(self.in_channels)
        hidden = total // 4
        self.reduce = nn.Conv2d(total, hidden, 1)
        self.blocks = ModuleList([
            CIMBlock(
                hidden, [c // 4 for c in self.in_channels],
                self.grid_size,
                mlp_ratio,
                norm_cfg,
                key_dims=key_dims,
                num_heads=num_heads,
                attn_ratio=attn_ratio) for _ in range(num_blocks)
        ])
        self.out_bn = _bn(norm_cfg, hidden)
        self.expand = nn.Conv2d(hidden, total, 1)
        self.gates = ModuleList(
            [ScaleAwareGate(c, norm_cfg) for c in self.in_channels])

    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Let the scales interact.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).

        Returns:
            list[Tensor]: Maps of the shapes of the inputs.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'CrossScaleInteraction expected '
                             f'{len(self.in_channels)} feature maps, got '
                             f'{len(inputs)}.')
        grid = torch.cat(
            [F.adaptive_avg_pool2d(x, self.grid_size) for x in inputs],
            dim=1)
        grid = self.reduce(grid)
        for block in self.blocks:
            grid = block(grid)
        grid = self.expand(self.out_bn(grid))
        parts = grid.split(self.in_channels, dim=1)
        return [gate(x, g) for gate, x, g in zip(self.gates, inputs, parts)]
