"""Language-guided cross-scale enhancement (LGCE) of the RRSIS paper."""
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig


class TokenAttention(BaseModule):
    """Multi-head attention of query tokens over key/value tokens.

    Args:
        dims (int): Token width.
        num_heads (int): Attention heads.
        qkv_bias (bool): Biases in the q/k/v projections. Defaults to True.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if dims % num_heads:
            raise ValueError(f'{num_heads} heads do not divide {dims}.')
        self.num_heads = num_heads
        self.q = nn.Linear(dims, dims, bias=qkv_bias)
        self.kv = nn.Linear(dims, 2 * dims, bias=qkv_bias)
        self.proj = nn.Linear(dims, dims)

    def attend(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Scaled dot-product attention on (B, heads, tokens, d) tensors."""
        return F.scaled_dot_product_attention(q, k, v)

    def forward(self, query: Tensor, key_value: Tensor) -> Tensor:
        """Attend.

        Args:
            query (Tensor): (B, Nq, C) queries.
            key_value (Tensor): (B, Nk, C) keys and values.

        Returns:
            Tensor: (B, Nq, C).
        """
        B, Nq, C = query.shape
        h = self.num_heads
        q = self.q(query).reshape(B, Nq, h, C // h).transpose(1, 2)
        k, v = self.kv(key_value).reshape(B, -1, 2, h,
                                          C // h).permute(2, 0, 3, 1, 4)
        out = self.attend(q, k, v).transpose(1, 2).reshape(B, Nq, C)
        return self.proj(out)


class TransformerBlock(BaseModule):
    """Pre-norm ViT block: ``x + Attn(LN(x))``, then ``x + MLP(LN(x))``.

    Args:
        dims (int): Token width.
        num_heads (int): Attention heads.
        mlp_ratio (float): Hidden width of the MLP over ``dims``.
        qkv_bias (bool): Biases in q/k/v. Defaults to True.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int,
                 mlp_ratio: float,
                 qkv_bias: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm1 = nn.LayerNorm(dims)
        self.attn = TokenAttention(dims, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dims)
        hidden = int(dims * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(dims, hidden), nn.GELU(), nn.Linear(hidden, dims))

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, C) tokens in and out."""
        y = self.norm1(x)
        x = x + self.attn(y, y)
        return x + self.mlp(self.norm2(x))


def _norm_act_linear(in_dims: int, out_dims: int) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            norm=nn.LayerNorm(in_dims),
            act=nn.GELU(),
            fc=nn.Linear(in_dims, out_dims)))


def _to_tokens(x: Tensor) -> Tensor:
    return x.flatten(2).transpose(1, 2)


def _to_map(x: Tensor, hw: Tuple[int, int]) -> Tensor:
    return x.transpose(1, 2).reshape(x.shape[0], -1, *hw)


@MODELS.register_module()
class LGCENeck(BaseModule):
    r"""Language-guided cross-scale enhancement (LGCE).

    Sits between a language-aware encoder and the decoder and returns maps
    of the same shapes as its inputs ``F_1..F_n`` (B, C_i, H_i, W_i); the
    scales in ``scales`` are enhanced, the others pass through. Words
    ``W`` (B, L, C_t) with mask ``M`` (B, L).

    **mode='paper'** (default) does what the paper describes: language
    builds one guide token per scale, the guide tokens exchange
    information across scales, and the exchange reaches the pixels, both
    through the guide tokens and through a language-gated top-down path
    from deep to shallow scales. With ``X_i`` (N_i, C_i) the tokens of
    input map i, ``d = embed_dims`` and ``i`` in ``scales`` (S):

    .. math::

        s &= \frac{\sum_l M_l W_l}{\sum_l M_l}
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

    ``Attn`` is multi-head attention of the guide tokens (queries) over
    the pixel tokens of all selected scales (keys and values): linear in
    the number of pixels, so stride-4 maps at 480x480 (120x120 tokens)
    are cheap. Every parameter is used; the output depends on the words
    only through ``s``, so padded positions have no effect.

    **mode='rsfm'** reproduces the layout of the public re-implementation
    (RSFM toolbox, ``lgce_head.py``; CrossViT-style multi-scale block) for
    comparison: scales (2, 3); ``s`` is the plain mean over all L positions
    (padding included); ``g_i = s A_i + a_i`` is prepended to the tokens
    of scale i; per-branch pre-norm ViT blocks (depths (1, 3), heads
    (8, 16), MLP ratio 2, no qkv bias); then each guide token is projected
    to the other branch's width (LN, GELU, Linear), cross-attends to the
    other branch's tokens (itself included, one pre-norm attention without
    MLP) and is projected back; finally the guide tokens are dropped. So the
    cross-scale parameters (``to_other``, ``cross_norms``,
    ``cross_attns``, ``from_other``) get no gradient and distributed
    training needs ``find_unused_parameters=True``. With
    ``unused_patch_embed=True`` the two patch-embedding convolutions that
    the re-implementation builds but never calls are kept too, which makes
    its parameter count (36,712,960 at Swin-B widths) and key set match.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_n. Defaults to
            (128, 256, 512, 1024).
        text_channels (int): Word feature channels. Defaults to 768.
        mode (str): ``'paper'`` or ``'rsfm'``. Defaults to ``'paper'``.
        scales (Sequence[int], optional): Indices of the enhanced scales.
            Defaults to all scales (paper) or (2, 3) (rsfm).
        embed_dims (int): Shared token width d (paper). Defaults to 256.
        num_heads (int | Sequence[int], optional): Heads of the guide
            attention (paper, default 8) or per branch (rsfm, default
            (8, 16)).
        mlp_ratio (float): MLP hidden ratio. Defaults to 2.
        depths (Sequence[int]): ViT blocks per branch (rsfm). Defaults to
            (1, 3).
        unused_patch_embed (bool): Keep the re-implementation's unused
            patch embeddings (rsfm). Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to None:
            PyTorch's default initialisation, as in the re-implementation.
            (A truncated normal with std 0.02 would make the products of
            the modulation path vanish at the start of training.)
    """

    with_text = True

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 text_channels: int = 768,
                 mode: str = 'paper',
                 scales: Optional[Sequence[int]] = None,
                 embed_dims: int = 256,
                 num_heads: Union[int, Sequence[int], None] = None,
                 mlp_ratio: float = 2.,
                 depths: Sequence[int] = (1, 3),
                 unused_patch_embed: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in ('paper', 'rsfm'):
            raise ValueError(f'Unknown LGCE mode "{mode}".')
        self.mode = mode
        self.in_channels = list(in_channels)
        n = len(self.in_channels)
        if scales is None:
            scales = range(n) if mode == 'paper' else (n - 2, n - 1)
        self.scales = sorted({int(s) % n for s in scales})
        if mode == 'paper':
            if len(self.scales) < 1:
                raise ValueError('LGCE needs at least one scale.')
            self._build_paper(text_channels, embed_dims,
                              8 if num_heads is None else num_heads,
                              mlp_ratio)
        else:
            if len(self.scales) != 2:
                raise ValueError('mode="rsfm" has exactly two branches.')
            self._build_rsfm(text_channels,
                             (8, 16) if num_heads is None else num_heads,
                             mlp_ratio, depths, unused_patch_embed)

    # ----------------------------------------------------------- paper mode
    def _build_paper(self, text_channels: int, dims: int, num_heads: int,
                     mlp_ratio: float) -> None:
        chans = [self.in_channels[i] for i in self.scales]
        k = len(chans)
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

    @staticmethod
    def masked_mean(word_feats: Tensor, word_mask: Tensor) -> Tensor:
        """Mean of the real words.

        Args:
            word_feats (Tensor): (B, L, C_t).
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            Tensor: (B, C_t) sentence vectors.
        """
        mask = word_mask.to(word_feats.dtype).unsqueeze(-1)
        return (word_feats * mask).sum(1) / mask.sum(1).clamp(min=1.)

    def _forward_paper(self, feats: List[Tensor], word_feats: Tensor,
                       word_mask: Tensor) -> List[Tensor]:
        sentence = self.masked_mean(word_feats, word_mask)
        maps = [feats[i] for i in self.scales]
        shapes = [m.shape[2:] for m in maps]
        xs = [_to_tokens(m) for m in maps]  # (B, N_t, C_t)
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
            deep = _to_map(self.down_projs[t](outs[t + 1]), shapes[t + 1])
            deep = _to_tokens(
                F.interpolate(
                    deep, size=shapes[t], mode='bilinear',
                    align_corners=False))
            gate = torch.sigmoid(self.gate_deep[t](deep) +
                                 self.gate_self[t](enhanced[t]) +
                                 self.gate_text[t](guides[:, t:t + 1]))
            outs[t] = enhanced[t] + gate * deep
        feats = list(feats)
        for i, x, hw in zip(self.scales, outs, shapes):
            feats[i] = _to_map(x, hw)
        return feats

    # ------------------------------------------------------------ rsfm mode
    def _build_rsfm(self, text_channels: int, num_heads: Sequence[int],
                    mlp_ratio: float, depths: Sequence[int],
                    unused_patch_embed: bool) -> None:
        chans = [self.in_channels[i] for i in self.scales]
        if isinstance(num_heads, int):
            num_heads = (num_heads, num_heads)
        self.guide_projs = ModuleList(
            [nn.Linear(text_channels, c) for c in chans])
        self.branches = ModuleList([
            nn.Sequential(*[
                TransformerBlock(c, h, mlp_ratio, qkv_bias=False)
                for _ in range(depth)
            ]) for c, h, depth in zip(chans, num_heads, depths)
        ])
        self.to_other = ModuleList()
        self.cross_norms = ModuleList()
        self.cross_attns = ModuleList()
        self.from_other = ModuleList()
        for b in range(2):
            c, c_other, h_other = chans[b], chans[1 - b], num_heads[1 - b]
            self.to_other.append(_norm_act_linear(c, c_other))
            self.cross_norms.append(nn.LayerNorm(c_other))
            self.cross_attns.append(
                TokenAttention(c_other, h_other, qkv_bias=False))
            self.from_other.append(_norm_act_linear(c_other, c))
        if unused_patch_embed:
            # built but never called by the re-implementation
            self.unused_patch_embeds = ModuleList([
                nn.Conv2d(3, chans[0], 8, 8),
                nn.Conv2d(3, chans[1], 16, 16)
            ])

    def rsfm_exchange(self, tokens: List[Tensor]) -> List[Tensor]:
        """The re-implementation's cross-branch step on the guide tokens.

        Args:
            tokens (list[Tensor]): Per branch (B, 1 + N_b, C_b), guide token
                first, after the branch's ViT blocks.

        Returns:
            list[Tensor]: Per branch the exchanged guide token (B, 1, C_b).
            :meth:`forward` discards them, as the re-implementation does.
        """
        guides = []
        for b in range(2):
            query = self.to_other[b](tokens[b][:, :1])
            seq = torch.cat([query, tokens[1 - b][:, 1:]], dim=1)
            normed = self.cross_norms[b](seq)
            query = query + self.cross_attns[b](normed[:, :1], normed)
            guides.append(self.from_other[b](query))
        return guides

    def _forward_rsfm(self, feats: List[Tensor], word_feats: Tensor,
                      word_mask: Tensor) -> List[Tensor]:
        sentence = word_feats.mean(dim=1)  # padding included, on purpose
        tokens = []
        for b, i in enumerate(self.scales):
            guide = self.guide_projs[b](sentence).unsqueeze(1)
            seq = torch.cat([guide, _to_tokens(feats[i])], dim=1)
            tokens.append(self.branches[b](seq))
        self.rsfm_exchange(tokens)  # result dropped, as in the reference
        feats = list(feats)
        for b, i in enumerate(self.scales):
            feats[i] = _to_map(tokens[b][:, 1:], feats[i].shape[2:])
        return feats

    def forward(self, inputs: Sequence[Tensor], word_feats: Tensor,
                word_mask: Tensor) -> List[Tensor]:
        """Enhance multi-scale maps under the guidance of the words.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            list[Tensor]: Enhanced maps, shapes as the inputs.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'Expected {len(self.in_channels)} feature '
                             f'maps, got {len(inputs)}.')
        if self.mode == 'paper':
            return self._forward_paper(list(inputs), word_feats, word_mask)
        return self._forward_rsfm(list(inputs), word_feats, word_mask)
