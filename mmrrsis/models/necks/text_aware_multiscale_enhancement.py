"""FIANet's text-aware multi-scale enhancement module (TMEM), as a neck."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.models.fusions.pwam_fusion import WordAttention
from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .base_text_neck import BaseTextNeck
from .cross_scale_interaction import ScaleAwareGate


class TMEMBlock(BaseModule):
    """Pre-norm attention of the grid tokens over the words, then a
    feed-forward, each with a residual::

        Z = Z + WA(LN_1(Z), W, M)
        Z = Z + FFN(LN_2(Z)),   FFN = Linear, GELU, Drop, Linear, Drop

    with ``WA`` a one-head :class:`WordAttention` (query and out widths
    D, instance norms over the grid tokens).

    Args:
        channels (int): D.
        text_channels (int): Word feature width.
        mlp_ratio (int): FFN hidden width over D. Defaults to 2.
        dropout (float): FFN dropout. Defaults to 0.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int,
                 mlp_ratio: int = 2,
                 dropout: float = 0.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm1 = nn.LayerNorm(channels)
        self.attn = WordAttention(channels, text_channels)
        self.norm2 = nn.LayerNorm(channels)
        hidden = mlp_ratio * channels
        self.ffn = nn.Sequential(
            nn.Linear(channels, hidden), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden, channels), nn.Dropout(dropout))

    def forward(self, x: Tensor, text: TextFeatures) -> Tensor:
        """(B, N, D) grid tokens in and out."""
        x = x + self.attn(self.norm1(x), text.words, text.mask)
        return x + self.ffn(self.norm2(x))


@MODELS.register_module()
class TextAwareMultiScaleEnhancement(BaseTextNeck):
    """FIANet's text-aware multi-scale enhancement module (TMEM).

    All scales ``F_1..F_n`` (B, C_i, H_i, W_i) are average-pooled to the
    last one's size (h, w) and concatenated (D = sum C_i), reduced to
    D / 4 by a 1x1 conv, passed through ``num_blocks``
    :class:`TMEMBlock` (the grid tokens attend over the whole expression's
    words), a BN and a 1x1 conv back to D; each scale's C_i channels ``G_i``
    go back onto its map with RMSIN's
    :class:`~mmrrsis.models.necks.cross_scale_interaction.ScaleAwareGate`::

        Z   = conv_r(cat_i pool_{h,w}(F_i))
        Z   = Block_k(... Block_1(Z, W, M))
        G   = conv_e(BN(Z)),  split into G_1..G_n
        F_i'= BN(conv(F_i)) * Up(hsigmoid(BN(conv(G_i)))) + Up(BN(conv(G_i)))

    Same shapes out as in. The reference keeps it inside its backbone,
    after the stages' output norms, on the stages' fused maps; with Swin-B
    at 480x480 the grid is 15x15 (1920 -> 480 channels) and RefSegRS uses
    one block, RRSIS-D three. It fixes the widths to (128, 256, 512, 1024)
    and the word width to 768; here they are ``in_channels`` and
    ``text_channels``. The grid is the last map's size whatever the input
    size (nothing in the module depends on it).

    Args:
        in_channels (Sequence[int]): C_1..C_n (D divisible by 4).
            Defaults to (128, 256, 512, 1024).
        text_channels (int): Word feature width. Defaults to 768.
        num_blocks (int): TMEM blocks. Defaults to 1.
        mlp_ratio (int): Blocks' FFN ratio. Defaults to 2.
        dropout (float): Blocks' FFN dropout. Defaults to 0.
        norm_cfg (dict, optional): The BNs (SyncBN in distributed
            training). Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None: the
            reference's initialisation (the blocks' FFN layers truncated
            normal std 0.02 with zero bias, the rest PyTorch's defaults).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 text_channels: int = 768,
                 num_blocks: int = 1,
                 mlp_ratio: int = 2,
                 dropout: float = 0.,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        total = sum(self.in_channels)
        if total % 4:
            raise ValueError('TextAwareMultiScaleEnhancement needs a total '
                             f'width divisible by 4, got {total}.')
        norm_cfg = norm_cfg or dict(type='BN')
        hidden = total // 4
        self.reduce = nn.Conv2d(total, hidden, 1)
        self.blocks = ModuleList([
            TMEMBlock(hidden, text_channels, mlp_ratio, dropout)
            for _ in range(num_blocks)
        ])
        self.out_bn = build_norm_layer(norm_cfg, hidden)[1]
        self.expand = nn.Conv2d(hidden, total, 1)
        self.gates = ModuleList(
            [ScaleAwareGate(c, norm_cfg) for c in self.in_channels])
        self._init_ffns()

    def _init_ffns(self) -> None:
        for block in self.blocks:
            for layer in (block.ffn[0], block.ffn[3]):
                nn.init.trunc_normal_(layer.weight, std=.02)
                nn.init.zeros_(layer.bias)

    def init_weights(self) -> None:
        """``init_cfg`` if given, else the reference's initialisation."""
        super().init_weights()
        if not self.init_cfg:
            self._init_ffns()

    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Enhance every scale with the others under the expression.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            text (TextFeatures): Words (B, L, C_t), mask (B, L).

        Returns:
            list[Tensor]: Maps of the shapes of the inputs.
        """
        inputs = self.check_inputs(inputs)
        size = inputs[-1].shape[2:]
        grid = self.reduce(
            torch.cat([F.adaptive_avg_pool2d(x, size) for x in inputs],
                      dim=1))
        B, D, h, w = grid.shape
        tokens = grid.flatten(2).transpose(1, 2)  # (B, h w, D)
        for block in self.blocks:
            tokens = block(tokens, text)
        grid = tokens.transpose(1, 2).reshape(B, D, h, w)
        grid = self.expand(self.out_bn(grid))
        parts = grid.split(self.in_channels, dim=1)
        return [gate(x, g) for gate, x, g in zip(self.gates, inputs, parts)]


__all__ = ['TMEMBlock', 'TextAwareMultiScaleEnhancement']
