"""RSRefSeg2's cascaded prompter: SigLIP text and image features in, SAM
prompts out."""
import math
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.models.utils import TextConditioned, TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig


def _corner_weights(size: int, out: int, ref: Tensor):
    """Bilinear (align_corners) corners and weights along one axis:
    (first index, second index, weight of the first, weight of the second),
    each (out,)."""
    if out == 1 or size == 1:
        pos = torch.zeros(out, dtype=ref.dtype, device=ref.device)
    else:
        pos = torch.arange(out, dtype=ref.dtype, device=ref.device) * (
            (size - 1) / (out - 1))
    low = pos.long().clamp(max=size - 1)
    high = (low + 1).clamp(max=size - 1)
    frac = pos - low.to(ref.dtype)
    return low, high, 1 - frac, frac


def upsampled_cosine(feat: Tensor, vec: Tensor, size: int) -> Tensor:
    """Cosine similarity between a vector and a feature map upsampled
    bilinearly (``align_corners=True``) to ``size`` x ``size``, without
    building the upsampled map.

    Bilinear upsampling mixes the 4 cells around each output pixel,
    ``u = sum_k w_k f_k``, so ``u . t = sum_k w_k (f_k . t)`` (the
    upsampled map of ``f . t``) and ``|u|^2 = sum_{k,l} w_k w_l f_k . f_l``
    needs only the dot products of each cell with itself and with its right,
    lower and two diagonal neighbours, computed on the small grid. The same
    values as ``cos(interpolate(feat), vec)`` (up to rounding), in
    O(B * size^2) memory instead of O(B * C * size^2): for RSRefSeg2,
    1152 x 256 x 256 floats (302 MB) less per expression.

    Args:
        feat (Tensor): (B, C, h, w) features.
        vec (Tensor): (B, C) vectors.
        size (int): Output side S.

    Returns:
        Tensor: (B, S, S) cosine similarities.
    """
    if feat.dtype in (torch.float16, torch.bfloat16):
        # the expansion of |u|^2 sums nine terms: not in half precision
        return upsampled_cosine(feat.float(), vec.float(),
                                size).to(feat.dtype)
    b, _, h, w = feat.shape
    y0, y1, a0, a1 = _corner_weights(h, size, feat)
    x0, x1, b0, b1 = _corner_weights(w, size, feat)
    dots = F.interpolate(
        torch.einsum('bchw,bc->bhw', feat, vec).unsqueeze(1),
        size=(size, size),
        mode='bilinear',
        align_corners=True)[:, 0]

    def pair(shift_y: int, shift_x: int, flip: bool = False) -> Tensor:
        """f[i, j] . f[i + dy, j + dx] (or f[i, j + 1] . f[i + 1, j]),
        zero where the neighbour is outside (its weight is 0 there)."""
        out = feat.new_zeros(b, h, w)
        if flip:
            if h > 1 and w > 1:
                out[:, :-1, :-1] = (feat[:, :, :-1, 1:] *
                                    feat[:, :, 1:, :-1]).sum(1)
            return out
        hh, ww = h - shift_y, w - shift_x
        if hh > 0 and ww > 0:
            out[:, :hh, :ww] = (feat[:, :, :hh, :ww] *
                                feat[:, :, shift_y:, shift_x:]).sum(1)
        return out

    norm, right, down = pair(0, 0), pair(0, 1), pair(1, 0)
    diag, anti = pair(1, 1), pair(0, 0, flip=True)

    def at(grid: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
        return grid[:, rows][:, :, cols]

    ay0, ay1 = (a0 * a0)[:, None], (a1 * a1)[:, None]
    bx0, bx1 = (b0 * b0)[None], (b1 * b1)[None]
    ay01, bx01 = (a0 * a1)[:, None], (b0 * b1)[None]
    sq = (ay0 * bx0 * at(norm, y0, x0) + ay0 * bx1 * at(norm, y0, x1) +
          ay1 * bx0 * at(norm, y1, x0) + ay1 * bx1 * at(norm, y1, x1) +
          2 * ay0 * bx01 * at(right, y0, x0) +
          2 * ay1 * bx01 * at(right, y1, x0) +
          2 * ay01 * bx0 * at(down, y0, x0) +
          2 * ay01 * bx1 * at(down, y0, x1) + 2 * ay01 * bx01 *
          (at(diag, y0, x0) + at(anti, y0, x0)))
    return dots / (sq.clamp(min=0).sqrt() * vec.norm(p=2, dim=1).view(
        b, 1, 1))


class PrompterOutput(NamedTuple):
    """What :class:`CascadedPrompter` returns for B expressions.

    Attributes:
        sparse (Tensor): (B, num_prompts, C_p) sparse prompt embeddings for
            SAM's mask decoder.
        dense (Tensor): (B, 1, S, S) dense prompt, a text-to-image
            similarity map in SigLIP's logit units at SAM's mask-input size.
        queries1 (Tensor): (B, Q, C_t) the first set of text queries.
        queries2 (Tensor): (B, Q, C_t) the second set.
        image_map (Tensor): (B, C_i, h, w) the SigLIP image tokens as a map
            (before the prompter refined them).
    """

    sparse: Tensor
    dense: Tensor
    queries1: Tensor
    queries2: Tensor
    image_map: Tensor


class ProjectedAttention(nn.Module):
    """Multi-head attention whose queries, keys and values are projected to
    an internal width first (SAM's attention layer).

    Args:
        dim (int): Width of the queries (and of the output).
        num_heads (int): Heads.
        internal_dim (int): Projected width, divisible by ``num_heads``.
        kv_dim (int, optional): Width of keys and values. Defaults to
            ``dim``.
    """

    def __init__(self, dim: int, num_heads: int, internal_dim: int,
                 kv_dim: Optional[int] = None) -> None:
        super().__init__()
        kv_dim = dim if kv_dim is None else kv_dim
        if internal_dim % num_heads:
            raise ValueError(f'internal_dim={internal_dim} is not divisible '
                             f'by num_heads={num_heads}')
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, internal_dim)
        self.k_proj = nn.Linear(kv_dim, internal_dim)
        self.v_proj = nn.Linear(kv_dim, internal_dim)
        self.out_proj = nn.Linear(internal_dim, dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads,
                         c // self.num_heads).transpose(1, 2)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Attend.

        Args:
            q (Tensor): (B, N_q, dim) queries.
            k (Tensor): (B, N_k, kv_dim) keys.
            v (Tensor): (B, N_k, kv_dim) values.

        Returns:
            Tensor: (B, N_q, dim).
        """
        out = F.scaled_dot_product_attention(
            self._heads(self.q_proj(q)), self._heads(self.k_proj(k)),
            self._heads(self.v_proj(v)))
        b, h, n, c = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * c))


class AttentionUnit(nn.Module):
    """``x <- LayerNorm(x + attention(x + pe_x, k, v))``, post-norm.

    Args:
        dim (int): Width of x.
        num_heads (int): Heads.
        internal_dim (int): Attention width.
        kv_dim (int, optional): Width of keys/values. Defaults to ``dim``.
    """

    def __init__(self, dim: int, num_heads: int, internal_dim: int,
                 kv_dim: Optional[int] = None) -> None:
        super().__init__()
        self.attn = ProjectedAttention(dim, num_heads, internal_dim, kv_dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, q: Tensor, k: Tensor, v: Tensor,
                residual: Tensor) -> Tensor:
        """Attention output added to ``residual``, then normalised."""
        return self.norm(residual + self.attn(q, k, v))


class FeedForwardUnit(nn.Module):
    """``x <- LayerNorm(x + Linear(GELU(Linear(x))))``, post-norm.

    Args:
        dim (int): Width of x.
        hidden_dim (int): Hidden width.
    """

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        """Feed-forward output added to x, then normalised."""
        return self.norm(x + self.fc2(F.gelu(self.fc1(x))))


class DualQueryBlock(nn.Module):
    """One layer refining two sets of text queries with the words and each
    other (step 0 of the prompter).

    With pe1, pe2 the queries' learnable position embeddings and T the
    words (all positions, padding included, as the reference)::

        q1 <- LN(q1 + SA(q1 + pe1, q1 + pe1, q1))
        q2 <- LN(q2 + SA(q2 + pe2, q2 + pe2, q2))
        q1 <- FF(LN(q1 + CA(q1 + pe1, T, T)))
        q2 <- FF(LN(q2 + CA(q2 + pe2, T, T)))
        q1 <- FF(LN(q1 + CA(q1 + pe1, q2 + pe2, q2)))
        q2 <- FF(LN(q2 + CA(q2 + pe2, q1 + pe1, q1)))     (the new q1)

    with FF a post-norm feed-forward unit.

    Args:
        dim (int): Width C_t of queries and words.
        num_heads (int): Heads.
        internal_dim (int): Attention width.
        mlp_dim (int): Feed-forward hidden width.
    """

    def __init__(self, dim: int, num_heads: int, internal_dim: int,
                 mlp_dim: int) -> None:
        super().__init__()

        def attention():
            return AttentionUnit(dim, num_heads, internal_dim)

        self.self_attn1, self.self_attn2 = attention(), attention()
        self.text_attn1, self.text_attn2 = attention(), attention()
        self.text_ffn1 = FeedForwardUnit(dim, mlp_dim)
        self.text_ffn2 = FeedForwardUnit(dim, mlp_dim)
        self.cross_attn1, self.cross_attn2 = attention(), attention()
        self.cross_ffn1 = FeedForwardUnit(dim, mlp_dim)
        self.cross_ffn2 = FeedForwardUnit(dim, mlp_dim)

    def forward(self, q1: Tensor, q2: Tensor, words: Tensor, pe1: Tensor,
                pe2: Tensor):
        """Refine the two query sets.

        Args:
            q1 (Tensor): (B, Q, C) first queries.
            q2 (Tensor): (B, Q, C) second queries.
            words (Tensor): (B, L, C) word features.
            pe1 (Tensor): (B, Q, C) position embedding of q1.
            pe2 (Tensor): (B, Q, C) position embedding of q2.

        Returns:
            tuple[Tensor, Tensor]: The new q1 and q2.
        """
        q1 = self.self_attn1(q1 + pe1, q1 + pe1, q1, q1)
        q2 = self.self_attn2(q2 + pe2, q2 + pe2, q2, q2)
        q1 = self.text_ffn1(self.text_attn1(q1 + pe1, words, words, q1))
        q2 = self.text_ffn2(self.text_attn2(q2 + pe2, words, words, q2))
        q1 = self.cross_ffn1(self.cross_attn1(q1 + pe1, q2 + pe2, q2, q1))
        q2 = self.cross_ffn2(self.cross_attn2(q2 + pe2, q1 + pe1, q1, q2))
        return q1, q2


class QueryImageBlock(nn.Module):
    """One layer passing text queries into the image tokens::

        q <- LN(q + SA(q + pe_q, q + pe_q, q))
        v <- FF(LN(v + CA(v + pe_v, q + pe_q, q)))

    Args:
        query_dim (int): Width C_t of the queries.
        image_dim (int): Width C_i of the image tokens.
        num_heads (int): Heads.
        internal_dim (int): Attention width.
        mlp_dim (int): Feed-forward hidden width.
    """

    def __init__(self, query_dim: int, image_dim: int, num_heads: int,
                 internal_dim: int, mlp_dim: int) -> None:
        super().__init__()
        self.query_attn = AttentionUnit(query_dim, num_heads, internal_dim)
        self.image_attn = AttentionUnit(image_dim, num_heads, internal_dim,
                                        query_dim)
        self.image_ffn = FeedForwardUnit(image_dim, mlp_dim)

    def forward(self, queries: Tensor, image: Tensor, query_pe: Tensor,
                image_pe: Tensor):
        """Update queries, then image tokens.

        Args:
            queries (Tensor): (B, Q, C_t).
            image (Tensor): (B, N, C_i) image tokens.
            query_pe (Tensor): (B, Q, C_t).
            image_pe (Tensor): (1, N, C_i).

        Returns:
            tuple[Tensor, Tensor]: New queries and image tokens.
        """
        q = queries + query_pe
        queries = self.query_attn(q, q, queries, queries)
        image = self.image_ffn(
            self.image_attn(image + image_pe, queries + query_pe, queries,
                            image))
        return queries, image


class PromptBlock(nn.Module):
    """One layer refining the sparse prompts with the queries and the image
    tokens::

        p <- LN(p + SA(p + pe_p, p + pe_p, p))
        p <- FF(LN(p + CA(p + pe_p, q + pe_q, q)))
        p <- FF(LN(p + CA(p + pe_p, v + pe_v, v)))

    Args:
        prompt_dim (int): Width C_p of the prompts (SAM's).
        query_dim (int): Width C_t of the queries.
        image_dim (int): Width C_i of the image tokens.
        num_heads (int): Heads.
        internal_dim (int): Attention width.
        mlp_dim (int): Feed-forward hidden width.
    """

    def __init__(self, prompt_dim: int, query_dim: int, image_dim: int,
                 num_heads: int, internal_dim: int, mlp_dim: int) -> None:
        super().__init__()
        self.self_attn = AttentionUnit(prompt_dim, num_heads, internal_dim)
        self.query_attn = AttentionUnit(prompt_dim, num_heads, internal_dim,
                                        query_dim)
        self.query_ffn = FeedForwardUnit(prompt_dim, mlp_dim)
        self.image_attn = AttentionUnit(prompt_dim, num_heads, internal_dim,
                                        image_dim)
        self.image_ffn = FeedForwardUnit(prompt_dim, mlp_dim)

    def forward(self, prompts: Tensor, queries: Tensor, image: Tensor,
                prompt_pe: Tensor, query_pe: Tensor, image_pe: Tensor):
        """Refine the prompts; shapes as in :class:`QueryImageBlock`,
        ``prompts`` and ``prompt_pe`` (B, P, C_p)."""
        p = prompts + prompt_pe
        prompts = self.self_attn(p, p, prompts, prompts)
        prompts = self.query_ffn(
            self.query_attn(prompts + prompt_pe, queries + query_pe, queries,
                            prompts))
        prompts = self.image_ffn(
            self.image_attn(prompts + prompt_pe, image + image_pe, image,
                            prompts))
        return prompts


@MODELS.register_module()
class CascadedPrompter(BaseModule, TextConditioned):
    """RSRefSeg2's prompter: turns SigLIP's text and image features into
    SAM prompts, in three cascaded steps.

    With T (B, L, C_t) the words, t (B, C_p) SigLIP's pooled text vector
    and V (B, N, C_i) the image tokens (an h x w grid)::

        q1 = q2 = adaptive_avg_pool(T over L -> Q)            (B, Q, C_t)
        step 0  (q1, q2) <- DualQueryBlock x depth(q1, q2, T)
        step 1  (q1, V)  <- QueryImageBlock x depth(q1, V)
        step 2  for each layer:
                    (q2, V) <- QueryImageBlock(q2, V)
                    P       <- PromptBlock(P, q2, V)            P: (B, P, C_p)
        sparse  = FFN(P)                                       (B, P, C_p)
        M       = Conv-BN-GELU-Conv(V as a map)                (B, C_i, h, w)
        dense   = cos(bilinear(M -> S x S), t) * exp(s) + b    (B, 1, S, S)

    with learnable position embeddings for q1, q2 (Q, C_t), P (P, C_p) and
    the image grid (1, C_i, h0, w0; resized bicubically when the grid
    differs), learnable initial prompts P, and SigLIP's logit scale s and
    bias b (from the text encoder). The average pool and the attention to
    T use every position, padding included, as the reference does (so
    with ``padding='longest'`` the result depends on the batch's longest
    expression). Only the image path (step 1, step 2's image updates,
    the dense map) costs per image token; the image tokens themselves are
    computed once per image. The dense map's cosine is computed without
    building the upsampled C_i x S x S map (:func:`upsampled_cosine`).

    The reference (``KyanChen/RSRefSeg2``, ``refseg/models/models.py``)
    configures these steps with lists of operation names; this class is
    the one layout its configs use, written as layers.

    Args:
        text_dim (int): C_t. Defaults to 1152.
        image_dim (int): C_i. Defaults to 1152.
        prompt_dim (int): C_p, SAM's prompt width. Defaults to 256.
        image_grid (int): h0 = w0 of the image position embedding.
            Defaults to 32.
        num_queries (int): Q. Defaults to 3.
        num_prompts (int): P. Defaults to 9.
        depth (int): Layers of each step. Defaults to 2.
        num_heads (int): Heads of every attention. Defaults to 8.
        internal_dim (int): Width inside every attention. Defaults to 512.
        mlp_dim (int): Hidden width of every feed-forward. Defaults to 512.
        init_cfg (dict | list[dict], optional): Defaults to None (PyTorch's
            initialisation; the embeddings are standard normal).
    """

    def __init__(self,
                 text_dim: int = 1152,
                 image_dim: int = 1152,
                 prompt_dim: int = 256,
                 image_grid: int = 32,
                 num_queries: int = 3,
                 num_prompts: int = 9,
                 depth: int = 2,
                 num_heads: int = 8,
                 internal_dim: int = 512,
                 mlp_dim: int = 512,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_queries = num_queries
        self.query_pe1 = nn.Parameter(torch.randn(num_queries, text_dim))
        self.query_pe2 = nn.Parameter(torch.randn(num_queries, text_dim))
        self.image_pe = nn.Parameter(
            torch.randn(1, image_dim, image_grid, image_grid))
        self.prompt_pe = nn.Parameter(torch.randn(num_prompts, prompt_dim))
        self.prompts = nn.Parameter(torch.randn(num_prompts, prompt_dim))
        self.query_blocks = nn.ModuleList([
            DualQueryBlock(text_dim, num_heads, internal_dim, mlp_dim)
            for _ in range(depth)
        ])
        self.image_blocks1 = nn.ModuleList([
            QueryImageBlock(text_dim, image_dim, num_heads, internal_dim,
                            mlp_dim) for _ in range(depth)
        ])
        self.image_blocks2 = nn.ModuleList([
            QueryImageBlock(text_dim, image_dim, num_heads, internal_dim,
                            mlp_dim) for _ in range(depth)
        ])
        self.prompt_blocks = nn.ModuleList([
            PromptBlock(prompt_dim, text_dim, image_dim, num_heads,
                        internal_dim, mlp_dim) for _ in range(depth)
        ])
        self.sparse_fc1 = nn.Linear(prompt_dim, mlp_dim)
        self.sparse_fc2 = nn.Linear(mlp_dim, prompt_dim)
        self.dense_conv = nn.Sequential(
            nn.Conv2d(image_dim, image_dim // 2, 3, padding=1),
            nn.BatchNorm2d(image_dim // 2), nn.GELU(),
            nn.Conv2d(image_dim // 2, image_dim, 3, padding=1))
        self._said_resize = False

    def init_weights(self) -> None:
        """PyTorch's initialisation (as the reference), or ``init_cfg``."""
        if self.init_cfg:
            super().init_weights()
        self._is_init = True

    def image_position(self, h: int, w: int) -> Tensor:
        """The image position embedding for an h x w grid, (1, h*w, C_i)."""
        pe = self.image_pe
        if pe.shape[-2:] != (h, w):
            if not self._said_resize:
                print_log(
                    f'CascadedPrompter: image position embedding resized '
                    f'from {tuple(pe.shape[-2:])} to {(h, w)} (bicubic)',
                    logger='current')
                self._said_resize = True
            pe = F.interpolate(
                pe, size=(h, w), mode='bicubic', align_corners=True)
        return pe.flatten(2).transpose(1, 2)

    def forward(self, image: Tensor, text: TextFeatures,
                logit_scale: Tensor, logit_bias: Tensor,
                mask_size: int) -> PrompterOutput:
        """Prompts for B expressions.

        Args:
            image (Tensor): (B, N, C_i) SigLIP image tokens, a square grid
                (a batch of 1 is broadcast to the B expressions).
            text (TextFeatures): ``words`` (B, L, C_t) and ``sentence``
                (B, C_t), SigLIP's pooled vector.
            logit_scale (Tensor): (1,) SigLIP's logit scale (log).
            logit_bias (Tensor): (1,) SigLIP's logit bias.
            mask_size (int): S, the side of SAM's mask input.

        Returns:
            PrompterOutput: Sparse and dense prompts and the losses'
            inputs.
        """
        words = text.words
        batch = words.shape[0]
        if image.shape[0] != batch:
            image = image.expand(batch, -1, -1)
        n = image.shape[1]
        side = int(math.isqrt(n))
        if side * side != n:
            raise ValueError(f'CascadedPrompter needs a square grid of image '
                             f'tokens, got {n}')
        image_map = image.transpose(1, 2).reshape(batch, -1, side, side)
        image_pe = self.image_position(side, side)

        q1 = F.adaptive_avg_pool1d(words.transpose(1, 2),
                                   self.num_queries).transpose(1, 2)
        q2 = q1
        pe1 = self.query_pe1.unsqueeze(0).expand(batch, -1, -1)
        pe2 = self.query_pe2.unsqueeze(0).expand(batch, -1, -1)
        for block in self.query_blocks:
            q1, q2 = block(q1, q2, words, pe1, pe2)
        queries1, queries2 = q1, q2

        for block in self.image_blocks1:
            q1, image = block(q1, image, pe1, image_pe)
        prompt_pe = self.prompt_pe.unsqueeze(0).expand(batch, -1, -1)
        prompts = self.prompts.unsqueeze(0).expand(batch, -1, -1)
        for image_block, prompt_block in zip(self.image_blocks2,
                                             self.prompt_blocks):
            q2, image = image_block(q2, image, pe2, image_pe)
            prompts = prompt_block(prompts, q2, image, prompt_pe, pe2,
                                   image_pe)
        sparse = self.sparse_fc2(F.gelu(self.sparse_fc1(prompts)))

        refined = image.transpose(1, 2).reshape(batch, -1, side, side)
        dense_map = self.dense_conv(refined)
        sentence = text.pool('encoder')
        if sentence.shape[-1] != dense_map.shape[1]:
            raise ValueError(
                f'CascadedPrompter compares the pooled text vector '
                f'({sentence.shape[-1]} wide: the text encoder\'s projection '
                f'size) with the image features ({dense_map.shape[1]} '
                'wide): they must live in one space (SigLIP\'s).')
        dense = upsampled_cosine(dense_map, sentence, mask_size)
        dense = dense.unsqueeze(1) * logit_scale.exp() + logit_bias
        return PrompterOutput(sparse, dense, queries1, queries2, image_map)


__all__ = ['CascadedPrompter', 'PrompterOutput', 'upsampled_cosine']
