"""DiCoR's refiner: a U-Net that predicts a logit correction from the image
and the coarse foreground probability."""
from collections import OrderedDict
from typing import List

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


def prob_to_logits(prob: Tensor, eps: float = 1e-6) -> Tensor:
    """Two-class logits ``(log(1 - p), log p)`` whose softmax is ``p``.

    Args:
        prob (Tensor): (B, 1, H, W) foreground probabilities.
        eps (float): ``p`` is clamped to ``[eps, 1 - eps]``. Defaults to
            1e-6.

    Returns:
        Tensor: (B, 2, H, W) logits.
    """
    prob = prob.clamp(eps, 1. - eps)
    return torch.cat([torch.log(1. - prob), torch.log(prob)], dim=1)


def _conv_bn_relu(in_channels: int, out_channels: int,
                  norm_cfg: dict) -> nn.Sequential:
    # plain layers keep PyTorch's initialisation, as the reference
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(
                in_channels, out_channels, 3, padding=1, bias=False),
            bn=build_norm_layer(norm_cfg, out_channels)[1],
            relu=nn.ReLU(inplace=True)))


def _double_conv(in_channels: int, out_channels: int,
                 norm_cfg: dict) -> nn.Sequential:
    return nn.Sequential(
        _conv_bn_relu(in_channels, out_channels, norm_cfg),
        _conv_bn_relu(out_channels, out_channels, norm_cfg))


@MODELS.register_module()
class RefineUNet(BaseModule):
    """A U-Net from the image and a probability map to a logit correction.

    Encoder: ``num_stages + 1`` levels of two 3x3 conv + BN + ReLU, widths
    ``base_channels * 2^i``, 2x2 max-pooling between them (the last level
    is the bottleneck). Decoder, deepest first: a 2x2 stride-2 transposed
    conv to the next width, (bilinearly resized to the skip's size when
    the size is odd), concatenated with the encoder's map of that level,
    two 3x3 conv + BN + ReLU. A 1x1 conv to ``num_classes`` channels,
    **zero-initialised**, so an untrained refiner changes nothing; the
    output is resized to the input's size when needed.

    DiCoR feeds the normalised image and the coarse foreground probability
    (4 channels) and adds the output to the coarse logits; with
    ``base_channels=64`` it has 31,038,274 parameters.

    Args:
        in_channels (int): Input channels. Defaults to 4.
        base_channels (int): Width of the first level. Defaults to 64.
        num_stages (int): Down-sampling steps. Defaults to 4.
        num_classes (int): Output channels. Defaults to 2.
        norm_cfg (dict, optional): Norm layer. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None
            (PyTorch's initialisation, the output conv zero).
    """

    def __init__(self,
                 in_channels: int = 4,
                 base_channels: int = 64,
                 num_stages: int = 4,
                 num_classes: int = 2,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')
        self.in_channels = in_channels
        widths = [base_channels * 2**i for i in range(num_stages + 1)]
        self.encoders = ModuleList([
            _double_conv(c_in, c_out, norm_cfg)
            for c_in, c_out in zip([in_channels] + widths[:-1], widths)
        ])
        deep_first = widths[::-1]
        self.ups = ModuleList([
            nn.ConvTranspose2d(c_in, c_out, 2, stride=2)
            for c_in, c_out in zip(deep_first[:-1], deep_first[1:])
        ])
        self.decoders = ModuleList([
            _double_conv(2 * c, c, norm_cfg) for c in deep_first[1:]
        ])
        self.out_conv = nn.Conv2d(base_channels, num_classes, 1)
        self.zero_output()

    def zero_output(self) -> None:
        """Set the output conv to zero (the refiner starts as identity)."""
        nn.init.zeros_(self.out_conv.weight)
        nn.init.zeros_(self.out_conv.bias)

    def init_weights(self) -> None:
        """Apply ``init_cfg``; without one the output conv stays zero."""
        super().init_weights()
        if not self.init_cfg:
            self.zero_output()

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_channels, H, W) -> (B, num_classes, H, W)."""
        size = x.shape[2:]
        skips: List[Tensor] = []
        for i, encoder in enumerate(self.encoders):
            if i:
                x = F.max_pool2d(x, 2, 2)
            x = encoder(x)
            skips.append(x)
        skips.pop()
        for up, decoder in zip(self.ups, self.decoders):
            skip = skips.pop()
            x = up(x)
            if x.shape[2:] != skip.shape[2:]:
                x = F.interpolate(
                    x, skip.shape[2:], mode='bilinear', align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        x = self.out_conv(x)
        if x.shape[2:] != size:
            x = F.interpolate(
                x, size, mode='bilinear', align_corners=False)
        return x


__all__ = ['RefineUNet', 'prob_to_logits']
