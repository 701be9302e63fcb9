"""LAVT's progressive top-down decoder as an mmseg decode head."""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor, nn

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


@MODELS.register_module()
class ReferringDecodeHead(BaseDecodeHead):
    """Progressive decoder of LAVT ("simple decoding").

    The text is already fused into the features, so the head sees only the
    multi-scale maps ``F_1..F_n`` (shallow to deep)::

        Y = F_n
        for i = n-1 .. 1:
            Y = Up(Y, size of F_i)
            Y = ReLU(BN(Conv3x3(ReLU(BN(Conv3x3([Y, F_i]))))))
        logits = Conv1x1(Y)                  # conv_seg, stride of F_1

    With Swin-B widths (128, 256, 512, 1024) and ``channels=512`` this is
    LAVT's decoder, 20,651,010 parameters (the last 1x1 conv is
    ``conv_seg``: 512 * 2 + 2). The loss defaults to LAVT's cross-entropy
    with class weights 0.9 (background) and 1.1 (target),
    :class:`WeightedCrossEntropyLoss`; add a ``DiceLoss`` to
    ``loss_decode`` for a Dice term.

    ``channels_last=True`` runs the convolutions on channels-last
    (NHWC) tensors, which some convolution kernels (cuDNN with fp16/bf16,
    oneDNN on some CPUs) run faster; the logits come back in the default
    layout, and the result is the same.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_n. Defaults to
            (128, 256, 512, 1024).
        channels (int): Hidden width. Defaults to 512.
        num_convs (int): 3x3 conv modules per fusion step. Defaults to 2.
        num_classes (int): Defaults to 2 (background, target).
        in_index (Sequence[int], optional): Which inputs to use. Defaults
            to all, in order.
        dropout_ratio (float): Dropout before ``conv_seg``. Defaults to 0
            (LAVT has none).
        norm_cfg (dict, optional): Norm of the conv modules. None means
            BN. Defaults to None.
        align_corners (bool): For every bilinear resize, as in LAVT.
            Defaults to True.
        channels_last (bool): Channels-last memory format for the
            convolutions. Defaults to False.
        loss_decode (dict | list[dict], optional): Losses. None means
            ``WeightedCrossEntropyLoss`` with class weights (0.9, 1.1).
            Defaults to None.
        **kwargs: Other arguments of ``BaseDecodeHead``.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 channels: int = 512,
                 num_convs: int = 2,
                 num_classes: int = 2,
                 in_index: Optional[Sequence[int]] = None,
                 dropout_ratio: float = 0.,
                 norm_cfg: OptConfigType = None,
                 align_corners: bool = True,
                 channels_last: bool = False,
                 loss_decode: OptMultiConfig = None,
                 **kwargs) -> None:
        if norm_cfg is None:
            norm_cfg = dict(type='BN', requires_grad=True)
        if loss_decode is None:
            loss_decode = dict(
                type='mmrrsis.WeightedCrossEntropyLoss',
                class_weight=[0.9, 1.1],
                loss_weight=1.0)
        in_channels = list(in_channels)
        if in_index is None:
            in_index = list(range(len(in_channels)))
        if len(in_channels) < 2:
            raise ValueError('ReferringDecodeHead needs at least 2 scales.')
        kwargs.setdefault('out_channels', num_classes)
        super().__init__(
            in_channels,
            channels,
            num_classes=num_classes,
            in_index=list(in_index),
            input_transform='multiple_select',
            dropout_ratio=dropout_ratio,
            norm_cfg=norm_cfg,
            align_corners=align_corners,
            loss_decode=loss_decode,
            **kwargs)
        self.num_convs = num_convs
        self.fuse_convs = nn.ModuleList()
        prev = self.in_channels[-1]
        for lateral in reversed(self.in_channels[:-1]):
            self.fuse_convs.append(
                nn.Sequential(*[
                    self.fuse_conv(k, prev + lateral if k == 0 else channels)
                    for k in range(num_convs)
                ]))
            prev = channels
        self.channels_last = channels_last

    def fuse_conv(self, index: int, in_channels: int) -> ConvModule:
        """Conv ``index`` of a fusion step: a 3x3 ConvModule (conv, norm,
        act) from ``in_channels`` (for ``index=0`` the upsampled deeper map
        and the lateral map, concatenated) to ``channels``.

        A decoder that differs from LAVT's only in these layers (e.g.
        RMSIN's rotated convolutions) overrides this method.
        """
        return ConvModule(
            in_channels,
            self.channels,
            3,
            padding=1,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)

    def forward(self, inputs: List[Tensor]) -> Tensor:
        """Decode fused multi-scale maps into logits.

        Args:
            inputs (list[Tensor]): Maps F_1..F_n, (B, C_i, H_i, W_i),
                shallow (largest) first.

        Returns:
            Tensor: (B, num_classes, H_1, W_1) logits.
        """
        feats = self._transform_inputs(inputs)
        if self.channels_last:
            feats = [
                f.contiguous(memory_format=torch.channels_last)
                for f in feats
            ]
        y = feats[-1]
        for convs, lateral in zip(self.fuse_convs, reversed(feats[:-1])):
            if y.shape[2:] != lateral.shape[2:]:
                y = F.interpolate(
                    y,
                    size=lateral.shape[2:],
                    mode='bilinear',
                    align_corners=self.align_corners)
            y = convs(torch.cat([y, lateral], dim=1))
        return self.cls_seg(y).contiguous()
