"""Language-guided cross-scale enhancement (LGCE) of the RRSIS paper."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .base_text_neck import BaseTextNeck
from .lgce_blocks import TokenAttention, to_map, to_tokens


@MODELS.register_module()
class LGCENeck(BaseTextNeck):
    r"""Language-guided cross-scale enhancement (LGCE), as the paper says.

    Sits between a language-aware encoder and the decoder and returns maps
    of the same shapes as its inputs ``F_1..F_n`` (B, C_i, H_i, W_i); the
    scales in ``scales`` are enhanced, the others pass through. Language
    builds one guide token per scale, the guide tokens exchange
    information across scales, and the exchange reaches the pixels, both
    through the guide tokens and through a language-gated top-down path
    from deep to shallow scales. With ``X_i`` (N_i, C_i) the tokens of
    input map i, ``d = embed_dims`` and ``i`` in ``scales`` (S):

    .. math::

        s &= \mathrm{pool}(W, M)
            \quad\text{(masked mean: padding excluded)} \\
        T_i &= \mathrm{LN}(X_i) P_i + e_i \in \mathbb{R}^{N_i \times d}
            \quad\text{(pixel tokens, scale embedding } e_i) \\
        g_i &= s A_i + a_i \in \mathbb{R}^{d}
            \quad\text{(guide token of scale } i) \\
        g_i &\leftarrow g_i + \mathrm{Attn}(\mathrm{LN}(g_i),
            [T_j]_{j \in S})
            \quad\text{(reads every selected scale)} \\
        g_i &\leftarrow g_i + \mathrm{MLP}(\mathrm{LN}(g_i)) \\
        r_i &= \sigma(T_i R_i g_i / \sqrt{d}) \in \mathbb{R}^{N_i}
            \quad\text{(language relevance of each pixel)} \\
        X_i' &= X_i + (r_i \odot T_i \odot V_i g_i) O_i \\
        Y_{k} &= X_{k}' \quad\text{for the deepest selected scale } k \\
        Z_i &= \mathrm{Up}(Y_j D_i)
            \quad\text{(j: next deeper selected scale)} \\
        G_i &= \sigma(Z_i G^z_i + X_i' G^x_i + g_i G^g_i) \\
        Y_i &= X_i' + G_i \odot Z_i

    ``s`` is ``text.pool('masked_mean')``
    (:meth:`~mmrrsis.models.utils.TextFeatures.pool`). ``Attn`` is
    multi-head attention of the guide tokens (queries) over the pixel
    tokens of all selected scales (keys and values): linear in the number
    of pixels, so stride-4 maps at 480x480 (120x120 tokens) are cheap.
    Every parameter is used; the output depends on the words only through
    ``s``, so padded positions have no effect.

    The layout of the public re-implementation (stages 3-4, guide tokens
    dropped) is :class:`LGCERSFMNeck`.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_n. Defaults to
            (128, 256, 512, 1024).
        text_channels (int): Word feature channels. Defaults to 768.
        scales (Sequence[int], optional): Indices of the enhanced scales.
            Defaults to all scales.
        embed_dims (int): Shared token width d. Defaults to 256.
        num_heads (int): Heads of the guide attention. Defaults to 8.
        mlp_ratio (float): MLP hidden ratio. Defaults to 2.
        init_cfg (dict | list[dict], optional): Defaults to None:
            PyTorch's default initialisation. (A truncated normal with
            std 0.02 would make the products of the modulation path
            vanish at the start of training.)
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 text_channels: int = 768,
                 scales: Optional[Sequence[int]] = None,
                 embed_dims: int = 256,
                 num_heads: int = 8,
                 mlp_ratio: float = 2.,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        n = len(self.in_channels)
        self.scales = sorted(
            {int(s) % n
             for s in (range(n) if scales is None else scales)})
        if len(self.scales) < 1:
            raise ValueError('LGCE needs at least one scale.')
        chans = [self.in_channels[i] for i in self.scales]
        k = len(chans)
        dims = embed_dims
        self.embed_dims = dims
        # every LayerNorm has 'norm' in its name (no weight decay)
        self.pixel_norms = ModuleList([nn.LayerNorm(c) for c in chans])
        self.pixel_projs = ModuleList([nn.Linear(c, dims) for c in chans])
        self.scale_embeds = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(k, dims), std=.02))
        self.guide_projs = ModuleList(
            [nn.Linear(text_channels, dims) for _ in chans])
        self.guide_norm = nn.LayerNorm(dims)
        self.guide_attn = TokenAttention(dims, num_heads)
        self.mlp_norm = nn.LayerNorm(dims)
        self.guide_mlp = nn.Sequential(
            nn.Linear(dims, int(dims * mlp_ratio)), nn.GELU(),
            nn.Linear(int(dims * mlp_ratio), dims))
        self.relevance_projs = ModuleList(
            [nn.Linear(dims, dims, bias=False) for _ in chans])
        self.value_projs = ModuleList([nn.Linear(dims, dims) for _ in chans])
        self.out_projs = ModuleList([nn.Linear(dims, c) for c in chans])
        # top-down: scale t (shallower) receives from scale t + 1
        self.down_projs = ModuleList([
            nn.Linear(chans[t + 1], chans[t]) for t in range(k - 1)
        ])
        self.gate_deep = ModuleList(
            [nn.Linear(chans[t], chans[t]) for t in range(k - 1)])
        self.gate_self = ModuleList([
            nn.Linear(chans[t], chans[t], bias=False) for t in range(k - 1)
        ])
        self.gate_text = ModuleList([
            nn.Linear(dims, chans[t], bias=False) for t in range(k - 1)
        ])

    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Enhance multi-scale maps under the guidance of the words.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            text (TextFeatures): Words (B, L, C_t) and mask (B, L).

        Returns:
            list[Tensor]: Enhanced maps, shapes as the inputs.
        """
        feats = self.check_inputs(inputs)
        sentence = text.pool('masked_mean')
        maps = [feats[i] for i in self.scales]
        shapes = [m.shape[2:] for m in maps]
        xs = [to_tokens(m) for m in maps]  # (B, N_t, C_t)
        pix = [
            self.pixel_projs[t](self.pixel_norms[t](x)) + self.scale_embeds[t]
            for t, x in enumerate(xs)
        ]
        guides = torch.stack(
            [proj(sentence) for proj in self.guide_projs], dim=1)
        # cross-scale exchange: guide tokens read all selected scales
        guides = guides + self.guide_attn(
            self.guide_norm(guides), torch.cat(pix, dim=1))
        guides = guides + self.guide_mlp(self.mlp_norm(guides))
        # guide tokens modulate their own scale's pixels
        enhanced = []
        scale = self.embed_dims**-0.5
        for t, (x, p) in enumerate(zip(xs, pix)):
            g = guides[:, t:t + 1]  # (B, 1, d)
            relevance = torch.sigmoid(
                (p * self.relevance_projs[t](g)).sum(-1, keepdim=True) *
                scale)
            x = x + self.out_projs[t](relevance * p * self.value_projs[t](g))
            enhanced.append(x)
        # language-gated top-down path, deepest to shallowest
        outs = [None] * len(xs)
        outs[-1] = enhanced[-1]
        for t in range(len(xs) - 2, -1, -1):
            deep = to_map(self.down_projs[t](outs[t + 1]), shapes[t + 1])
            deep = to_tokens(
                F.interpolate(
                    deep, size=shapes[t], mode='bilinear',
                    align_corners=False))
            gate = torch.sigmoid(self.gate_deep[t](deep) +
                                 self.gate_self[t](enhanced[t]) +
                                 self.gate_text[t](guides[:, t:t + 1]))
            outs[t] = enhanced[t] + gate * deep
        for i, x, hw in zip(self.scales, outs, shapes):
            feats[i] = to_map(x, hw)
        return feats
