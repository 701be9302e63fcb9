"""LAVT's pixel-word attention fusion (PWAM) and language gates."""
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig


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


class PixelWordAttention(BaseModule):
    """Pixel-word attention module (PWAM) of LAVT.

    For visual tokens ``X`` (B, N, C) and words ``W`` (B, L, C_t) with mask
    ``M`` (B, L)::

        V = Drop(GELU(X A_v))                        visual branch
        Q = IN(X A_q),  K = M * (W A_k),  U = M * (W A_u)
        S = softmax_l(Q K^T / sqrt(d) + log M)       padded words get 0
        G = IN((S U) A_o)                            language branch
        F = Drop(GELU((V * G) A_f))                  fused map

    ``IN`` is instance normalisation over the N tokens without affine
    parameters, ``d`` the channels per head. The 1x1 convolutions of the
    reference code are ``nn.Linear`` layers on tokens here.

    Under mixed precision (:func:`torch.autocast`) the module computes in
    float32 unless ``fp32_in_amp=False``: the instance norms come right
    after linear projections, and normalising their bf16/fp16 outputs
    (a per-channel mean that can be large next to the spread) loses most
    of the precision; in bf16 the fused maps come out a few times further
    from float32 than with this module in float32, for about 2% of the
    step time. Outside autocast the switch does nothing.

    Args:
        channels (int): Visual channels C.
        text_channels (int): Word feature channels C_t. Defaults to 768.
        key_channels (int, optional): Query/key channels. Defaults to
            ``channels``.
        value_channels (int, optional): Value channels. Defaults to
            ``channels``.
        num_heads (int): Attention heads (LAVT uses 1). Defaults to 1.
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
                 dropout: float = 0.,
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        key_channels = key_channels or channels
        value_channels = value_channels or channels
        if key_channels % num_heads or value_channels % num_heads:
            raise ValueError(f'num_heads={num_heads} must divide the key '
                             f'({key_channels}) and value '
                             f'({value_channels}) channels.')
        self.num_heads = num_heads
        self.fp32_in_amp = fp32_in_amp
        self.vis_proj = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Dropout(dropout))
        self.query_proj = nn.Linear(channels, key_channels)
        self.key_proj = nn.Linear(text_channels, key_channels)
        self.value_proj = nn.Linear(text_channels, value_channels)
        self.out_proj = nn.Linear(value_channels, channels)
        self.fuse_proj = nn.Sequential(
            nn.Linear(channels, channels), nn.GELU(), nn.Dropout(dropout))

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
        scores = q @ k.transpose(-2, -1) * q.shape[-1]**-0.5
        padded = word_mask[:, None, None, :] <= 0
        scores = scores.masked_fill(padded, torch.finfo(scores.dtype).min)
        attn = scores.softmax(dim=-1)
        out = attn @ v  # B, h, N, d_v
        return out.transpose(1, 2).reshape(B, N, -1)

    def forward(self, x: Tensor, word_feats: Tensor,
                word_mask: Tensor) -> Tensor:
        """Fuse words into pixels.

        Args:
            x (Tensor): (B, N, C) visual tokens.
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            Tensor: (B, N, C) fused map F (float32 under autocast with
            ``fp32_in_amp``).
        """
        device = x.device.type
        if self.fp32_in_amp and torch.is_autocast_enabled(device):
            with torch.autocast(device_type=device, enabled=False):
                return self._fuse(x.float(), word_feats.float(), word_mask)
        return self._fuse(x, word_feats, word_mask)

    def _fuse(self, x: Tensor, word_feats: Tensor,
              word_mask: Tensor) -> Tensor:
        mask = word_mask.to(x.dtype).unsqueeze(-1)  # B, L, 1
        vis = self.vis_proj(x)
        query = instance_norm_tokens(self.query_proj(x))
        key = self.key_proj(word_feats) * mask
        value = self.value_proj(word_feats) * mask
        lang = self.attend(query, key, value, word_mask)
        lang = instance_norm_tokens(self.out_proj(lang))
        return self.fuse_proj(vis * lang)


def language_gate(channels: int) -> nn.Sequential:
    """LAVT's language gate: Linear, ReLU, Linear, Tanh (no biases)."""
    return nn.Sequential(
        nn.Linear(channels, channels, bias=False), nn.ReLU(),
        nn.Linear(channels, channels, bias=False), nn.Tanh())


@MODELS.register_module()
class LAVTFusionNeck(BaseModule):
    """Per-stage pixel-word attention plus language gate (LAVT).

    For stage i with visual stream ``X_i`` (after the stage's blocks)::

        F_i  = PWAM_i(X_i, W, M)
        X_i' = X_i + gate_i(F_i) * F_i

    Two ways to use it:

    - early fusion (LAVT): a language-aware backbone such as
      :class:`LanguageAwareSwin` calls :meth:`fuse` after the blocks of
      each stage; ``X_i'`` goes on into patch merging and ``F_i`` (after
      the backbone's output norm) to the decoder;
    - late fusion: as an ordinary neck after any mmseg backbone
      (ResNet, MiT, ...), :meth:`forward` fuses each (B, C_i, H_i, W_i)
      output and returns the gated maps ``X_i'`` with the same shapes.

    ``gate_init='zeros'`` zero-initialises both gate layers as LAVT does.
    Note what that implies: the hidden activation and both weight
    gradients are then exactly zero, so the gates stay closed during
    training and the stream continues unchanged (language reaches the
    decoder through ``F_i``). ``'last'`` zeroes only the second layer, so
    the gate starts closed but can learn; ``'default'`` keeps PyTorch's
    initialisation.

    Args:
        in_channels (Sequence[int]): Channels of each fused stage.
        text_channels (int): Word feature channels. Defaults to 768.
        num_heads (int | Sequence[int]): PWAM heads, per stage or one for
            all. Defaults to 1.
        dropout (float): PWAM dropout. Defaults to 0.
        gate_init (str): ``'zeros'``, ``'last'`` or ``'default'``.
            Defaults to ``'zeros'``.
        fp32_in_amp (bool): PWAMs compute in float32 under autocast (see
            :class:`PixelWordAttention`). Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    with_text = True

    def __init__(self,
                 in_channels: Sequence[int],
                 text_channels: int = 768,
                 num_heads: Union[int, Sequence[int]] = 1,
                 dropout: float = 0.,
                 gate_init: str = 'zeros',
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if gate_init not in ('zeros', 'last', 'default'):
            raise ValueError(f'Unknown gate_init "{gate_init}".')
        self.in_channels = list(in_channels)
        if isinstance(num_heads, int):
            num_heads = [num_heads] * len(self.in_channels)
        self.gate_init = gate_init
        self.pwams = ModuleList([
            PixelWordAttention(
                c,
                text_channels,
                num_heads=h,
                dropout=dropout,
                fp32_in_amp=fp32_in_amp)
            for c, h in zip(self.in_channels, num_heads)
        ])
        self.gates = ModuleList(
            [language_gate(c) for c in self.in_channels])
        self._init_gates()

    def _init_gates(self) -> None:
        for gate in self.gates:
            if self.gate_init == 'zeros':
                nn.init.zeros_(gate[0].weight)
            if self.gate_init in ('zeros', 'last'):
                nn.init.zeros_(gate[2].weight)

    def init_weights(self) -> None:
        """Reset PWAMs to PyTorch defaults, gates as ``gate_init`` says.

        A backbone's own initialisation (e.g. Swin's truncated normal for
        every ``nn.Linear``) may have touched these layers before.
        """
        super().init_weights()
        if not self.init_cfg:
            for module in self.pwams.modules():
                if isinstance(module, nn.Linear):
                    module.reset_parameters()
            for gate in self.gates:
                for module in gate:
                    if isinstance(module, nn.Linear):
                        module.reset_parameters()
            self._init_gates()

    def fuse(self,
             index: int,
             x: Tensor,
             word_feats: Tensor,
             word_mask: Tensor,
             with_gate: bool = True) -> Tuple[Tensor, Tensor]:
        """Fuse the words into stage ``index`` (early fusion).

        Args:
            index (int): Stage index into ``in_channels``.
            x (Tensor): (B, N, C_i) visual tokens after the stage's blocks.
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.
            with_gate (bool): Compute the gated stream; when False (a last
                stage whose stream ends here) ``x`` is returned unchanged.
                Defaults to True.

        Returns:
            tuple[Tensor, Tensor]: The fused map ``F_i`` (B, N, C_i) and the
            stream ``X_i'`` (B, N, C_i).
        """
        fused = self.pwams[index](x, word_feats, word_mask)
        if with_gate:
            x = x + self.gates[index](fused) * fused
        return fused, x

    def forward(self, inputs: Sequence[Tensor], word_feats: Tensor,
                word_mask: Tensor) -> List[Tensor]:
        """Late fusion on multi-scale maps.

        Args:
            inputs (Sequence[Tensor]): Maps (B, C_i, H_i, W_i), one per
                entry of ``in_channels``.
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            list[Tensor]: The gated maps ``X_i'``, shapes as the inputs.
        """
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'Expected {len(self.in_channels)} feature '
                             f'maps, got {len(inputs)}.')
        outs = []
        for i, feat in enumerate(inputs):
            B, C, H, W = feat.shape
            tokens = feat.flatten(2).transpose(1, 2)
            _, tokens = self.fuse(i, tokens, word_feats, word_mask)
            outs.append(tokens.transpose(1, 2).reshape(B, C, H, W))
        return outs
