"""Attention blocks shared by the two LGCE necks."""
from collections import OrderedDict
from typing import Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

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


def norm_act_linear(in_dims: int, out_dims: int) -> nn.Sequential:
    """LayerNorm, GELU, Linear (keys ``norm``, ``act``, ``fc``)."""
    return nn.Sequential(
        OrderedDict(
            norm=nn.LayerNorm(in_dims),
            act=nn.GELU(),
            fc=nn.Linear(in_dims, out_dims)))


def to_tokens(x: Tensor) -> Tensor:
    """(B, C, H, W) map to (B, H * W, C) tokens."""
    return x.flatten(2).transpose(1, 2)


def to_map(x: Tensor, hw: Tuple[int, int]) -> Tensor:
    """(B, H * W, C) tokens to a (B, C, H, W) map."""
    return x.transpose(1, 2).reshape(x.shape[0], -1, *hw)


__all__ = [
    'TokenAttention', 'TransformerBlock', 'norm_act_linear', 'to_map',
    'to_tokens'
]
