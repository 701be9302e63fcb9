"""FIANet's stage fusion: LAVT's PWAM and gate plus an object-position
alignment of the visual tokens with the expression's parts, and a channel
weighting of what the stream receives."""
from typing import List, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .pwam_fusion import PWAMFusion, WordAttention, init_gate, language_gate


def _trunc_normal_linear(layer: nn.Linear) -> None:
    """std 0.02 and zero bias: what FIANet's backbone gives every linear
    layer."""
    nn.init.trunc_normal_(layer.weight, std=.02)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


class ChannelWeighting(BaseModule):
    """A weight per channel from the mean token (squeeze and excitation)::

        w = sigmoid(A_2 ReLU(A_1 mean_n X))        (B, C)

    Args:
        channels (int): C.
        ratio (int): C over the hidden width. Defaults to 8.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 ratio: int = 8,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc1 = nn.Linear(channels, channels // ratio)
        self.fc2 = nn.Linear(channels // ratio, channels)

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, C) tokens -> (B, 1, C) weights in (0, 1)."""
        hidden = self.fc1(x.mean(dim=1)).relu()
        return self.fc2(hidden).sigmoid().unsqueeze(1)


class ObjectPositionAlignment(BaseModule):
    """FIANet's object-position alignment block (OPAB).

    The tokens ``X`` (B, N, C) of a stage attend over the object words
    ``T`` (mask ``M_T``) and, separately, over the spatial phrase ``P``
    (mask ``M_P``), each with a :class:`WordAttention`; the object result,
    gated, is weighted per pixel by a spatial map from the position
    result::

        O = WA_o(X, T, M_T);  O = gate(O) * O
        S = WA_p(X, P, M_P)                         (B, N, C) on (H, W)
        a = sigmoid(conv3x3([mean_c S, max_c S]))   (B, N, 1)
        Y = O * a

    An expression without object words has ``M_T = 0``: ``O`` is zero,
    and so is ``Y``. ``object_embed`` is a linear layer the reference
    builds and never uses (its checkpoints hold it and its parameter
    count includes it); it is frozen here.

    Args:
        channels (int): C.
        text_channels (int): Word feature width. Defaults to 768.
        num_heads (int): Heads of both attentions. Defaults to 1.
        attn_scale (str): See :class:`WordAttention`. Defaults to
            ``'total'``.
        fp32_in_amp (bool): See :class:`WordAttention`. Defaults to True.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int = 768,
                 num_heads: int = 1,
                 attn_scale: str = 'total',
                 fp32_in_amp: bool = True,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)

        def attention():
            return WordAttention(
                channels,
                text_channels,
                num_heads=num_heads,
                attn_scale=attn_scale,
                fp32_in_amp=fp32_in_amp)

        self.object_attn = attention()
        self.object_gate = language_gate(channels)
        self.object_embed = nn.Linear(channels, channels, bias=False)
        self.object_embed.requires_grad_(False)
        self.position_attn = attention()
        self.spatial_conv = nn.Conv2d(2, 1, 3, padding=1, bias=False)

    def forward(self, x: Tensor, hw_shape: Tuple[int, int],
                objects: TextFeatures, positions: TextFeatures) -> Tensor:
        """Align the tokens with the object words and the spatial phrase.

        Args:
            x (Tensor): (B, N, C) tokens, row-major over ``hw_shape``.
            hw_shape (tuple[int, int]): (H, W), H * W = N.
            objects (TextFeatures): Object pass, words (B, L, C_t), mask
                (B, L).
            positions (TextFeatures): Position pass, the same shapes.

        Returns:
            Tensor: (B, N, C) ``Y``.
        """
        B, N, _ = x.shape
        obj = self.object_attn(x, objects.words, objects.mask)
        obj = self.object_gate(obj) * obj
        pos = self.position_attn(x, positions.words, positions.mask)
        stats = torch.stack([pos.mean(dim=-1), pos.amax(dim=-1)], dim=1)
        weight = self.spatial_conv(stats.reshape(B, 2, *hw_shape)).sigmoid()
        return obj * weight.reshape(B, N, 1)


@MODELS.register_module()
class FIANetFusion(PWAMFusion):
    """The stage fusion of FIANet (Lei et al., TGRS 2024).

    For stage i with tokens ``X_i`` (after the stage's blocks) and the
    text record's whole expression (W, M), object pass and position pass
    (``text.phrases['object']``, ``['position']``, from
    :class:`~mmrrsis.models.text_encoders.PhraseBertTextEncoder`)::

        F_i  = PWAM_i(X_i, W, M)                        fused: to the decoder
        Y_i  = OPAB_i(X_i, object pass, position pass)
        w_i  = ChannelWeighting_i(X_i)                  (B, 1, C_i)
        X_i' = X_i + (gate_i(F_i) F_i + Y_i) * w_i      stream

    The decoder still gets the ungated PWAM output ``F_i`` (after the
    stage's output norm), as in LAVT. Only the stream uses the gate, the
    alignment block and the channel weighting, so in the last stage (no
    patch merging) they are frozen and not computed
    (:meth:`stream_modules`): the reference computes them there and drops
    the result. FIANet's backbone initialises every linear layer with a
    truncated normal of std 0.02 and zero bias (``gate_init=
    'trunc_normal'`` for the gates; the channel weighting always), its
    1x1 convolutions (here the attentions' linear layers) as PyTorch does.

    Args:
        in_channels (Sequence[int]): Channels of each fused stage.
        text_channels (int): Word feature channels. Defaults to 768.
        num_heads (int | Sequence[int]): Heads of the PWAMs and of the
            alignment blocks' attentions (the reference's ``--mha``), per
            stage or one for all. Defaults to 1.
        channel_ratio (int): Channel weighting reduction. Defaults to 8.
        **kwargs: Other arguments of :class:`PWAMFusion` (``attn_scale``,
            ``dropout``, ``gate_init``, ``fp32_in_amp``, ``init_cfg``).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 text_channels: int = 768,
                 num_heads: Union[int, Sequence[int]] = 1,
                 channel_ratio: int = 8,
                 **kwargs) -> None:
        super().__init__(
            in_channels,
            text_channels=text_channels,
            num_heads=num_heads,
            **kwargs)
        if isinstance(num_heads, int):
            num_heads = [num_heads] * len(self.in_channels)
        self.alignments = ModuleList([
            ObjectPositionAlignment(
                c,
                text_channels,
                num_heads=h,
                attn_scale=self.pwams[0].attn_scale,
                fp32_in_amp=self.pwams[0].fp32_in_amp)
            for c, h in zip(self.in_channels, num_heads)
        ])
        self.channel_weights = ModuleList(
            [ChannelWeighting(c, channel_ratio) for c in self.in_channels])
        self._init_stream_modules()

    def _init_stream_modules(self) -> None:
        for align in self.alignments:
            init_gate(align.object_gate, self.gate_init)
            nn.init.trunc_normal_(align.object_embed.weight, std=.02)
        for weighting in self.channel_weights:
            _trunc_normal_linear(weighting.fc1)
            _trunc_normal_linear(weighting.fc2)

    def init_weights(self) -> None:
        """PWAMs and gates as :class:`PWAMFusion`; the alignment blocks'
        attentions reset to PyTorch's defaults, their gates as
        ``gate_init``; the channel weighting as the reference."""
        super().init_weights()
        if not self.init_cfg:
            for align in self.alignments:
                for module in align.modules():
                    if isinstance(module, (nn.Linear, nn.Conv2d)):
                        module.reset_parameters()
            self._init_stream_modules()

    def fuse(self, index: int, x: Tensor, hw_shape: Tuple[int, int],
             text: TextFeatures,
             with_stream: bool = True) -> Tuple[Tensor, Tensor]:
        """``F_i`` and ``X_i'`` of stage ``index`` (see
        :meth:`BaseFusion.fuse`)."""
        fused = self.pwams[index](x, text.words, text.mask)
        if with_stream:
            owner = type(self).__name__
            aligned = self.alignments[index](x, hw_shape,
                                             text.phrase('object', owner),
                                             text.phrase('position', owner))
            weight = self.channel_weights[index](x)
            x = x + (self.gates[index](fused) * fused + aligned) * weight
        return fused, x

    def stream_modules(self, index: int) -> List[nn.Module]:
        """The gate, alignment block and channel weighting of stage
        ``index``."""
        return [
            self.gates[index], self.alignments[index],
            self.channel_weights[index]
        ]


__all__ = ['ChannelWeighting', 'FIANetFusion', 'ObjectPositionAlignment']
