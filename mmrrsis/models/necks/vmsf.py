"""DiCoR's multi-scale fusion necks: VMSF (visual only) and LVMSF (with
text <-> visual cross-attention)."""
import logging
import re
from typing import List, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import FFN
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .base_text_neck import BaseTextNeck
from .cross_scale_interaction import ScaleAwareGate

# the reference initialises every linear layer of its backbone (where these
# modules live) with trunc_normal(0.02) and every LayerNorm with 1 / 0
DEFAULT_INIT = [
    dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.)
]


def _ffn(channels: int, ratio: int, dropout: float) -> FFN:
    """Linear -> GELU -> Dropout -> Linear -> Dropout, plus the identity
    passed at the call."""
    return FFN(
        embed_dims=channels,
        feedforward_channels=channels * ratio,
        num_fcs=2,
        act_cfg=dict(type='GELU'),
        ffn_drop=dropout,
        add_identity=True)


class VMSFBlock(BaseModule):
    """Pre-norm self-attention and feed-forward over the tokens of a map.

    ``T = T + MHA(LN(T)); T = T + FFN(LN(T))`` with T the (h w) tokens of
    the (B, C, h, w) map.

    Args:
        channels (int): C.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (int): Feed-forward hidden width over C. Defaults to 4.
        dropout (float): Attention and feed-forward dropout. Defaults
            to 0.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 dropout: float = 0.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm1 = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(
            channels, num_heads, dropout=dropout, batch_first=True)
        self.norm2 = nn.LayerNorm(channels)
        self.ffn = _ffn(channels, mlp_ratio, dropout)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, h, w) in and out."""
        B, C, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        normed = self.norm1(tokens)
        tokens = tokens + self.attn(
            normed, normed, normed, need_weights=False)[0]
        tokens = self.ffn(self.norm2(tokens), identity=tokens)
        return tokens.transpose(1, 2).reshape(B, C, h, w)


class LVMSFBlock(BaseModule):
    """Text and visual tokens update each other, then the visual tokens
    attend to themselves.

    With visual tokens V (B, h w, C) and words W (B, L, C_t)::

        W = LN(W + MHA(W, V, V));  W = LN(W + FFN(W))   text <- visual
        V = LN(V + MHA(V, W, W));  V = LN(V + FFN(V))   visual <- text
        V = VMSFBlock(V)

    In the second attention the padded words are masked out; in the first
    every word (padding too) queries the visual tokens, as the reference
    does (padded words never reach a valid output).

    Args:
        channels (int): C.
        text_channels (int): C_t.
        num_heads (int): Heads of the three attentions. Defaults to 8.
        mlp_ratio (int): Feed-forward hidden ratio. Defaults to 4.
        dropout (float): Dropout. Defaults to 0.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 dropout: float = 0.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.text_attn = nn.MultiheadAttention(
            text_channels,
            num_heads,
            dropout=dropout,
            batch_first=True,
            kdim=channels,
            vdim=channels)
        self.visual_attn = nn.MultiheadAttention(
            channels,
            num_heads,
            dropout=dropout,
            batch_first=True,
            kdim=text_channels,
            vdim=text_channels)
        self.text_norm1 = nn.LayerNorm(text_channels)
        self.text_norm2 = nn.LayerNorm(text_channels)
        self.visual_norm1 = nn.LayerNorm(channels)
        self.visual_norm2 = nn.LayerNorm(channels)
        self.text_ffn = _ffn(text_channels, mlp_ratio, dropout)
        self.visual_ffn = _ffn(channels, mlp_ratio, dropout)
        self.self_attn = VMSFBlock(channels, num_heads, mlp_ratio, dropout)

    def forward(self, x: Tensor, words: Tensor,
                padding: Tensor) -> tuple:
        """One interaction step.

        Args:
            x (Tensor): (B, C, h, w) visual map.
            words (Tensor): (B, L, C_t) word features.
            padding (Tensor): (B, L) bool, True at padded words.

        Returns:
            tuple[Tensor, Tensor]: The map (B, C, h, w) and the words
            (B, L, C_t).
        """
        B, C, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        delta = self.text_attn(words, tokens, tokens, need_weights=False)[0]
        words = self.text_norm1(words + delta)
        words = self.text_norm2(self.text_ffn(words))
        delta = self.visual_attn(
            tokens, words, words, key_padding_mask=padding,
            need_weights=False)[0]
        tokens = self.visual_norm1(tokens + delta)
        tokens = self.visual_norm2(self.visual_ffn(tokens))
        x = tokens.transpose(1, 2).reshape(B, C, h, w)
        return self.self_attn(x), words


class _GridFusionMixin:
    """Pool every scale to the grid of the last one, mix the scales there,
    put each scale's share back with a :class:`ScaleAwareGate`.

    The neck calls :meth:`build_grid_layers` in its ``__init__`` and builds
    its ``blocks``.
    """

    def build_grid_layers(self, in_channels: Sequence[int], pool_stride: int,
                          norm_cfg: OptConfigType) -> None:
        """``reduce`` (D -> D / 4), ``out_bn``, ``expand`` and ``gates``."""
        self.in_channels = list(in_channels)
        total = sum(self.in_channels)
        if total % 4:
            raise ValueError(f'{type(self).__name__} needs the widths '
                             f'{self.in_channels} to sum to a multiple of '
                             '4.')
        self.hidden_channels = total // 4
        self.pool_stride = pool_stride
        norm_cfg = norm_cfg or dict(type='BN')
        self.reduce = nn.Conv2d(total, self.hidden_channels, 1)
        self.out_bn = build_norm_layer(norm_cfg, self.hidden_channels)[1]
        self.expand = nn.Conv2d(self.hidden_channels, total, 1)
        self.gates = ModuleList(
            [ScaleAwareGate(c, norm_cfg) for c in self.in_channels])

    def grid(self, inputs: Sequence[Tensor]) -> Tensor:
        """The scales average-pooled to the last one's size (divided by
        ``pool_stride``), concatenated and reduced: (B, D / 4, h, w)."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} expected '
                             f'{len(self.in_channels)} feature maps, got '
                             f'{len(inputs)}.')
        h, w = ((s - 1) // self.pool_stride + 1 for s in inputs[-1].shape[2:])
        return self.reduce(
            torch.cat([F.adaptive_avg_pool2d(x, (h, w)) for x in inputs],
                      dim=1))

    def scatter(self, inputs: Sequence[Tensor], grid: Tensor) -> List[Tensor]:
        """BN, expand to D, and gate each scale's part onto its map."""
        parts = self.expand(self.out_bn(grid)).split(self.in_channels, dim=1)
        return [gate(x, g) for gate, x, g in zip(self.gates, inputs, parts)]


@MODELS.register_module()
class VMSFNeck(_GridFusionMixin, BaseModule):
    """DiCoR's visual multi-scale fusion (VMSF), a plain neck.

    All scales ``F_1..F_n`` (B, C_i, H_i, W_i) are average-pooled to the
    last scale's grid (h, w) = (H_n, W_n) (divided by ``pool_stride``),
    concatenated (D = sum C_i) and reduced to D / 4 by a 1x1 conv; the
    h w tokens pass ``num_blocks`` :class:`VMSFBlock` (multi-head
    self-attention and feed-forward); then BN, a 1x1 conv back to D, and
    each scale's C_i channels are put back on its map by a
    :class:`~mmrrsis.models.necks.cross_scale_interaction.ScaleAwareGate`
    (the gate of RMSIN's CIM). Same shapes out as in; no language. With
    Swin-B widths, 3 blocks and 8 heads it has 14,354,880 parameters
    (DiCoR's coarse model = LAVT + this).

    Args:
        in_channels (Sequence[int]): C_1..C_n. Defaults to
            (128, 256, 512, 1024).
        num_blocks (int): Blocks. Defaults to 3.
        num_heads (int): Heads. Defaults to 8.
        mlp_ratio (int): Feed-forward ratio. Defaults to 4.
        dropout (float): Dropout. Defaults to 0.
        pool_stride (int): The grid is the last scale's size divided by
            this. Defaults to 1.
        norm_cfg (dict, optional): Norm of the BNs. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to linear layers
            trunc_normal(0.02) with zero bias, LayerNorms 1 / 0, as the
            reference initialises its backbone.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 num_blocks: int = 3,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 dropout: float = 0.,
                 pool_stride: int = 1,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = DEFAULT_INIT) -> None:
        super().__init__(init_cfg=init_cfg)
        self.build_grid_layers(in_channels, pool_stride, norm_cfg)
        self.blocks = ModuleList([
            VMSFBlock(self.hidden_channels, num_heads, mlp_ratio, dropout)
            for _ in range(num_blocks)
        ])

    def forward(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Fuse the scales.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).

        Returns:
            list[Tensor]: Maps of the shapes of the inputs.
        """
        grid = self.grid(inputs)
        for block in self.blocks:
            grid = block(grid)
        return self.scatter(inputs, grid)


@MODELS.register_module()
class LVMSFNeck(_GridFusionMixin, BaseTextNeck):
    """DiCoR's language-guided multi-scale fusion (LVMSF), a text neck.

    :class:`VMSFNeck` whose blocks are :class:`LVMSFBlock`: before each
    block's self-attention the words and the grid tokens exchange
    information by cross-attention (text <- visual, then visual <- text,
    padded words masked). The words it updates are not returned (the
    reference returns them; nothing reads them). With Swin-B widths,
    BERT-base words, 3 blocks and 8 heads: 43,433,952 parameters.

    Loading a checkpoint of the coarse model (a :class:`VMSFNeck` state:
    ``blocks.{i}.norm1 / attn / norm2 / ffn``) into this neck:

    - ``carry_vmsf_blocks=True`` (default): the coarse self-attention
      blocks become the ``blocks.{i}.self_attn`` of this neck; the
      cross-attention parts start from their initialisation;
    - ``carry_vmsf_blocks=False``: those keys are left out and every
      block starts from its initialisation, which is what DiCoR's joint
      stage does (``coarse_best.pth`` loaded with ``strict=False`` into
      the LVMSF model leaves the 120 keys of its 3 blocks at random init,
      then trains them at lr 1e-6). A message says which was done.

    Args:
        in_channels (Sequence[int]): C_1..C_n. Defaults to
            (128, 256, 512, 1024).
        text_channels (int): C_t of the words. Defaults to 768.
        num_blocks (int): Blocks. Defaults to 3.
        num_heads (int): Heads. Defaults to 8.
        mlp_ratio (int): Feed-forward ratio. Defaults to 4.
        dropout (float): Dropout. Defaults to 0.
        pool_stride (int): See :class:`VMSFNeck`. Defaults to 1.
        carry_vmsf_blocks (bool): See above. Defaults to True.
        norm_cfg (dict, optional): Norm of the BNs. Defaults to BN.
        init_cfg (dict | list[dict], optional): As :class:`VMSFNeck`.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 text_channels: int = 768,
                 num_blocks: int = 3,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 dropout: float = 0.,
                 pool_stride: int = 1,
                 carry_vmsf_blocks: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = DEFAULT_INIT) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        self.build_grid_layers(in_channels, pool_stride, norm_cfg)
        self.carry_vmsf_blocks = carry_vmsf_blocks
        self.blocks = ModuleList([
            LVMSFBlock(self.hidden_channels, text_channels, num_heads,
                       mlp_ratio, dropout) for _ in range(num_blocks)
        ])

    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Fuse the scales under the guidance of the words.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            text (TextFeatures): Words (B, L, C_t) and mask (B, L).

        Returns:
            list[Tensor]: Maps of the shapes of the inputs.
        """
        grid = self.grid(inputs)
        words, padding = text.words, text.mask <= 0
        for block in self.blocks:
            grid, words = block(grid, words, padding)
        return self.scatter(inputs, grid)

    def _load_from_state_dict(self, state_dict, prefix, *args,
                              **kwargs) -> None:
        """Read a :class:`VMSFNeck` state as said in the class
        docstring."""
        vmsf = re.compile(re.escape(prefix) +
                          r'blocks\.(\d+)\.(norm1|attn|norm2|ffn)\.(.+)$')
        moved = [k for k in list(state_dict) if vmsf.match(k)]
        if moved:
            for key in moved:
                value = state_dict.pop(key)
                if self.carry_vmsf_blocks:
                    block, name, rest = vmsf.match(key).groups()
                    state_dict[f'{prefix}blocks.{block}.self_attn.'
                               f'{name}.{rest}'] = value
            print_log(
                f'LVMSFNeck: the checkpoint holds VMSF blocks '
                f'({len(moved)} tensors); ' +
                ('they initialise blocks.*.self_attn, the cross-attention '
                 'parts keep their initialisation (carry_vmsf_blocks=True)'
                 if self.carry_vmsf_blocks else
                 'they are left out and every LVMSF block keeps its '
                 'initialisation, as DiCoR\'s joint stage does '
                 '(carry_vmsf_blocks=False)'),
                logger='current',
                level=logging.INFO)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


__all__ = ['VMSFBlock', 'LVMSFBlock', 'VMSFNeck', 'LVMSFNeck']
