"""LAVT's pixel-word attention fusion (PWAM) and language gates."""
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .base_fusion import BaseFusion

GATE_INITS = ('zeros', 'last', 'default', 'trunc_normal')


def instance_norm_tokens(x: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise each channel over the tokens of its sample (no affine).

    The same as ``nn.InstanceNorm1d`` on ``x.transpose(1, 2)``, except that
    a single token (a 1x1 map, e.g. a small crop) gives zeros instead of
    an error.

    Args:
        x (Tensor): (B, N, C) tokens.
        eps (float): Added to the variance. Defaults to 1e-5.

    Returns:
        Tensor: (B, N, C) normalised tokens.
    """
    var, mean = torch.var_mean(x, dim=1, unbiased=False, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps)


class WordAttention(BaseModule):
    """Each visual token attends over the words: the language branch of
    LAVT's PWAM, alone.

    For visual tokens ``X`` (B, N, C) and words ``W`` (B, L, C_t) with mask
    ``M`` (B, L)::

        Q = IN(X A_q),  K = M * (W A_k),  U = M * (W A_u)
        S = softmax_l(Q K^T * s + log M)             padded words get 0
        G = IN((S U) A_o)

    ``IN`` is instance normalisation over the N tokens without affine
    parameters. With several heads, Q, K and U are split into
    ``num_heads`` groups of channels and each head attends on its own;
    the scale ``s`` is ``key_channels ** -0.5`` (``attn_scale='total'``,
    what LAVT's and RMSIN's code do for every number of heads, their
    ``--mha`` option) or the usual ``(key_channels / num_heads) ** -0.5``
    (``'per_head'``). With one head both are the same. The 1x1
    convolutions of the reference code are ``nn.Linear`` layers on tokens
    here. A row whose mask is all zeros (an expression without such words,
    e.g. FIANet's object words) has zero keys and values, so its attention
    output is zero and ``G`` is zero, as in the reference (which adds
    -10^4 to every word's score there, a uniform softmax over zeros).

    Under mixed precision (:func:`torch.autocast`) the module computes in
    float32 unless ``fp32_in_amp=False``: the instance norms come right
    after linear projections, and normalising their bf16/fp16 outputs
    (a per-channel mean that can be large next to the spread) loses most
    of the precision; in bf16 the fused maps come out a few times further
    from float32 than with this module in float32, for about 2% of the
    step time. Outside autocast the switch does nothing.

    FIANet uses it alone (its object and position cross-attentions, and
    the blocks of its TMEM neck); :class:`PixelWordAttention` adds PWAM's
    visual branch.

    Args:
        channels (int): Visual channels C.
        text_channels (int): Word feature channels C_t. Defaults to 768.
        key_channels (int, optional): Query/key channels. Defaults to
            ``channels``.
        value_channels (int, optional): Value channels. Defaults to
            ``channels``.
        num_heads (int): Attention heads (LAVT uses 1). Defaults to 1.
        attn_scale (str): ``'total'`` or ``'per_head'``, see above.
            Defaults to ``'total'``.
        fp32_in_amp (bool): Compute in float32 under autocast. Defaults
            to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int = 768,
                 key_channels: int = None,
                 value_channels: int = None,
                 num_heads: int = 1,
                 attn_scale: str = 'total',
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        key_channels = key_channels or channels
        value_channels = value_channels or channels
        if key_channels % num_heads or value_channels % num_heads:
            raise ValueError(f'num_heads={num_heads} must divide the key '
                             f'({key_channels}) and value '
                             f'({value_channels}) channels.')
        if attn_scale not in ('total', 'per_head'):
            raise ValueError('attn_scale must be "total" or "per_head", got '
                             f'"{attn_scale}".')
        self.num_heads = num_heads
        self.attn_scale = attn_scale
        self.scale = (key_channels if attn_scale == 'total' else
                      key_channels // num_heads)**-0.5
        self.fp32_in_amp = fp32_in_amp
        self.query_proj = nn.Linear(channels, key_channels)
        self.key_proj = nn.Linear(text_channels, key_channels)
        self.value_proj = nn.Linear(text_channels, value_channels)
        self.out_proj = nn.Linear(value_channels, channels)

    def attend(self, query: Tensor, key: Tensor, value: Tensor,
               word_mask: Tensor) -> Tensor:
        """Multi-head attention of pixels over words, padding masked out.

        Args:
            query (Tensor): (B, N, C_k) pixel queries.
            key (Tensor): (B, L, C_k) word keys.
            value (Tensor): (B, L, C_v) word values.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            Tensor: (B, N, C_v) attended word values per pixel.
        """
        B, N, _ = query.shape
        L = key.shape[1]
        h = self.num_heads
        q = query.reshape(B, N, h, -1).transpose(1, 2)  # B, h, N, d
        k = key.reshape(B, L, h, -1).transpose(1, 2)  # B, h, L, d
        v = value.reshape(B, L, h, -1).transpose(1, 2)  # B, h, L, d_v
        scores = q @ k.transpose(-2, -1) * self.scale
        padded = word_mask[:, None, None, :] <= 0
        scores = scores.masked_fill(padded, torch.finfo(scores.dtype).min)
        attn = scores.softmax(dim=-1)
        out = attn @ v  # B, h, N, d_v
        return out.transpose(1, 2).reshape(B, N, -1)

    def forward(self, x: Tensor, word_feats: Tensor,
                word_mask: Tensor) -> Tensor:
        """Attend.

        Args:
            x (Tensor): (B, N, C) visual tokens.
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            Tensor: (B, N, C) (float32 under autocast with
            ``fp32_in_amp``).
        """
        device = x.device.type
        if self.fp32_in_amp and torch.is_autocast_enabled(device):
            with torch.autocast(device_type=device, enabled=False):
                return self._fuse(x.float(), word_feats.float(), word_mask)
        return self._fuse(x, word_feats, word_mask)

    def language(self, x: Tensor, word_feats: Tensor,
                 word_mask: Tensor) -> Tensor:
        """``G`` of the class docstring, (B, N, C)."""
        mask = word_mask.to(x.dtype).unsqueeze(-1)  # B, L, 1
        query = instance_norm_tokens(self.query_proj(x))
        key = self.key_proj(word_feats) * mask
        value = self.value_proj(word_feats) * mask
        lang = self.attend(query, key, value, word_mask)
        return instance_norm_tokens(self.out_proj(lang))

    def _fuse(self, x: Tensor, word_feats: Tensor,
              word_mask: Tensor) -> Tensor:
        return self.language(x, word_feats, word_mask)


class PixelWordAttention(WordAttention):
    """Pixel-word attention module (PWAM) of LAVT.

    For visual tokens ``X`` (B, N, C) and words ``W`` (B, L, C_t) with mask
    ``M`` (B, L)::

        V = Drop(GELU(X A_v))                        visual branch
        G = WordAttention(X, W, M)                   language branch
        F = Drop(GELU((V * G) A_f))                  fused map

    with :class:`WordAttention`'s ``G`` (heads, scale and mixed precision
    as there).

    Args:
        channels (int): Visual channels C.
        text_channels (int): Word feature channels C_t. Defaults to 768.
        key_channels (int, optional): Query/key channels. Defaults to
            ``channels``.
        value_channels (int, optional): Value channels. Defaults to
            ``channels``.
        num_heads (int): Attention heads (LAVT uses 1). Defaults to 1.
        attn_scale (str): ``'total'`` or ``'per_head'``. Defaults to
            ``'total'``.
        dropout (float): Dropout after the GELUs. Defaults to 0.
        fp32_in_amp (bool): Compute in float32 under autocast. Defaults
            to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int = 768,
                 key_channels: int = None,
                 value_channels: int = None,
                 num_heads: int = 1,
                 attn_scale: str = 'total',
                 dropout: float = 0.,
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            channels,
            text_channels,
            key_channels,
            value_channels,
            num_heads,
            attn_scale,
            fp32_in_amp,
            init_cfg=init_cfg)
        self.vis_proj = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Dropout(dropout))
        self.fuse_proj = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Dropout(dropout))

    def _fuse(self, x: Tensor, word_feats: Tensor,
              word_mask: Tensor) -> Tensor:
        lang = self.language(x, word_feats, word_mask)
        return self.fuse_proj(self.vis_proj(x) * lang)


def language_gate(channels: int) -> nn.Sequential:
    """LAVT's language gate: Linear, ReLU, Linear, Tanh (no biases)."""
    return nn.Sequential(
        nn.Linear(channels, channels, bias=False), nn.ReLU(),
        nn.Linear(channels, channels, bias=False), nn.Tanh())


def init_gate(gate: nn.Sequential, mode: str) -> None:
    """Initialise a freshly built (or reset) :func:`language_gate`.

    Args:
        gate (nn.Sequential): The gate.
        mode (str): ``'zeros'`` (both layers zero, LAVT), ``'last'`` (only
            the second layer zero), ``'default'`` (PyTorch's default) or
            ``'trunc_normal'`` (std 0.02, what RMSIN's backbone
            initialisation gives every linear layer).
    """
    if mode == 'trunc_normal':
        for layer in (gate[0], gate[2]):
            nn.init.trunc_normal_(layer.weight, std=.02)
    if mode == 'zeros':
        nn.init.zeros_(gate[0].weight)
    if mode in ('zeros', 'last'):
        nn.init.zeros_(gate[2].weight)


@MODELS.register_module()
class PWAMFusion(BaseFusion):
    """Per-stage pixel-word attention plus language gate (LAVT).

    For stage i with tokens ``X_i`` (after the stage's blocks)::

        F_i  = PWAM_i(X_i, W, M)                 fused: to the decoder
        X_i' = X_i + gate_i(F_i) * F_i           stream: to the next stage

    ``gate_init='zeros'`` zero-initialises both gate layers as LAVT does.
    Note what that implies: the hidden activation and both weight
    gradients are then exactly zero, so the gates stay closed during
    training and the stream continues unchanged (language reaches the
    decoder through ``F_i``). ``'last'`` zeroes only the second layer, so
    the gate starts closed but can learn; ``'default'`` keeps PyTorch's
    initialisation; ``'trunc_normal'`` draws std 0.02 (RMSIN).

    Args:
        in_channels (Sequence[int]): Channels of each fused stage.
        text_channels (int): Word feature channels. Defaults to 768.
        num_heads (int | Sequence[int]): PWAM heads, per stage or one for
            all. Defaults to 1.
        attn_scale (str): PWAM attention scale with several heads, see
            :class:`PixelWordAttention`. Defaults to ``'total'`` (LAVT).
        dropout (float): PWAM dropout. Defaults to 0.
        gate_init (str): One of ``'zeros'``, ``'last'``, ``'default'``,
            ``'trunc_normal'``. Defaults to ``'zeros'``.
        fp32_in_amp (bool): PWAMs compute in float32 under autocast (see
            :class:`PixelWordAttention`). Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 text_channels: int = 768,
                 num_heads: Union[int, Sequence[int]] = 1,
                 attn_scale: str = 'total',
                 dropout: float = 0.,
                 gate_init: str = 'zeros',
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        if gate_init not in GATE_INITS:
            raise ValueError(f'Unknown gate_init "{gate_init}"; choose from '
                             f'{GATE_INITS}.')
        if isinstance(num_heads, int):
            num_heads = [num_heads] * len(self.in_channels)
        self.gate_init = gate_init
        self.pwams = ModuleList([
            PixelWordAttention(
                c,
                text_channels,
                num_heads=h,
                attn_scale=attn_scale,
                dropout=dropout,
                fp32_in_amp=fp32_in_amp)
            for c, h in zip(self.in_channels, num_heads)
        ])
        self.gates = ModuleList(
            [language_gate(c) for c in self.in_channels])
        self._init_gates()

    def _init_gates(self) -> None:
        for gate in self.gates:
            init_gate(gate, self.gate_init)

    def init_weights(self) -> None:
        """Reset PWAMs to PyTorch defaults, gates as ``gate_init`` says.

        A backbone's own initialisation (e.g. Swin's truncated normal for
        every ``nn.Linear``) may have touched these layers before.
        """
        super().init_weights()
        if not self.init_cfg:
            for module in [*self.pwams.modules(), *self.gates.modules()]:
                if isinstance(module, nn.Linear):
                    module.reset_parameters()
            self._init_gates()

    def fuse(self, index: int, x: Tensor, hw_shape: Tuple[int, int],
             text: TextFeatures,
             with_stream: bool = True) -> Tuple[Tensor, Tensor]:
        """``F_i`` and ``X_i'`` of stage ``index`` (see
        :meth:`BaseFusion.fuse`; PWAM does not use ``hw_shape``)."""
        fused = self.pwams[index](x, text.words, text.mask)
        if with_stream:
            x = x + self.gates[index](fused) * fused
        return fused, x

    def stream_modules(self, index: int) -> List[nn.Module]:
        """The gate of stage ``index`` (only the stream uses it)."""
        return [self.gates[index]]


__all__ = [
    'GATE_INITS', 'PWAMFusion', 'PixelWordAttention', 'WordAttention',
    'init_gate', 'instance_norm_tokens', 'language_gate'
]
