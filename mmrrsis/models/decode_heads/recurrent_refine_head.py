"""Decode heads that fuse every level with the text and refine the levels
with a convolutional LSTM (RRN's recurrent refinement, LSCM, CMPC)."""
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.models.utils.conv_lstm import ConvLSTM
from mmrrsis.models.utils.multimodal_layers import (
    SameConv2d,
    l2_normalize,
    spatial_coordinates,
)
from mmrrsis.utils import (
    ConfigType,
    OptConfigType,
    OptMultiConfig,
    SampleList,
)

from .base_text_decode_head import BaseTextDecodeHead


class RecurrentRefineHead(BaseTextDecodeHead, metaclass=ABCMeta):
    """A text-aware head with deep supervision and ConvLSTM refinement.

    The layout LSCM and CMPC share (from RRN)::

        V_i = l2_normalize(lateral_i(C_i))        every level on one grid
        F_1..F_n, R_1..R_m = fuse(V, text)        subclass: fused levels F
                                                  (C channels), maps R to
                                                  refine
        final = score(ConvLSTM(R_order[0], R_order[1], ...))   (B, 1, h, w)
        level_i = score_i(F_i)                    training only

    ``lateral_i`` is a 1x1 convolution, or for a level at twice the grid's
    resolution (ResNet's C2 beside the dilated C3-C5) a 3x3 convolution of
    stride 2. The head predicts one logit per pixel (``out_channels=1``;
    the target where its sigmoid exceeds ``threshold``). Its loss (the
    references' ``train_op``) is::

        final_loss_weight * loss(final)
            + level_loss_weight * sum_i loss(level_i)

    each logit map upsampled to the label's size first, with every loss
    of ``loss_decode``; the items are ``<loss_name>`` (final) and
    ``<loss_name>_level<i>``.

    Subclasses implement :meth:`fuse`.

    Args:
        in_channels (Sequence[int]): Channels of the selected backbone
            maps.
        in_index (Sequence[int]): Which backbone maps.
        lateral_strides (Sequence[int]): 1 or 2 per map (see above).
        refine_order (Sequence[int]): Indices of the maps R the ConvLSTM
            reads, in order.
        channels (int): C, the fused levels' width (the references'
            ``mlp_dim``). Defaults to 500.
        vis_channels (int): Width of the projected visual maps
            (``v_emb_dim``). Defaults to 1000.
        text_channels (int): C_t of ``TextFeatures.words`` (``rnn_size``).
            Defaults to 1000.
        feat_size (tuple[int, int]): The grid of the ConvLSTM's peepholes
            (40 x 40 at the references' 320 x 320).
        final_loss_weight (float): Weight of the final map's loss.
            Defaults to 0.6.
        level_loss_weight (float): Weight of each level's loss. Defaults
            to 0.1.
        threshold (float): Sigmoid threshold of the target. Defaults to
            0.5 (the references' logit >= 0).
        loss_decode (dict | list[dict]): Losses. Defaults to
            ``BinaryLogisticLoss`` summed over each image's pixels.
        init_cfg (dict | list[dict], optional): Defaults to None (the
            layers start as the references', Glorot uniform).
        **kwargs: Other ``BaseDecodeHead`` arguments (``align_corners``,
            ``ignore_index``).

    Its layers are built from :attr:`channels`, :attr:`vis_channels` and
    :attr:`text_channels`.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 in_index: Sequence[int],
                 lateral_strides: Sequence[int],
                 refine_order: Sequence[int],
                 channels: int = 500,
                 vis_channels: int = 1000,
                 text_channels: int = 1000,
                 feat_size: Tuple[int, int] = (40, 40),
                 final_loss_weight: float = 0.6,
                 level_loss_weight: float = 0.1,
                 threshold: float = 0.5,
                 loss_decode: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        if loss_decode is None:
            loss_decode = dict(type='BinaryLogisticLoss',
                               reduction='image_sum')
        super().__init__(
            in_channels=list(in_channels),
            channels=channels,
            num_classes=2,
            out_channels=1,
            threshold=threshold,
            dropout_ratio=0.,
            in_index=list(in_index),
            input_transform='multiple_select',
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            **kwargs)
        if len(lateral_strides) != len(self.in_channels):
            raise ValueError(f'lateral_strides has {len(lateral_strides)} '
                             f'entries for {len(self.in_channels)} maps.')
        if any(s not in (1, 2) for s in lateral_strides):
            raise ValueError(f'lateral_strides must be 1 or 2, got '
                             f'{tuple(lateral_strides)}.')
        self.vis_channels = vis_channels
        self.text_channels = text_channels
        self.refine_order = tuple(refine_order)
        self.final_loss_weight = final_loss_weight
        self.level_loss_weight = level_loss_weight
        self.laterals = nn.ModuleList([
            SameConv2d(c, vis_channels, 1 if s == 1 else 3, stride=s)
            for c, s in zip(self.in_channels, lateral_strides)
        ])
        self.level_scores = nn.ModuleList([
            SameConv2d(channels, 1, 3) for _ in range(self.num_levels)
        ])
        self.conv_lstm = ConvLSTM(channels, channels, 1, feat_size)
        # the final score: a 3x3 convolution, as the references'
        self.conv_seg = SameConv2d(channels, 1, 3)

    @property
    def num_levels(self) -> int:
        """Number of fused levels F (one per selected backbone map)."""
        return len(self.in_channels)

    def project(self, inputs: List[Tensor]) -> List[Tensor]:
        """The selected backbone maps on one grid, unit length.

        Args:
            inputs (list[Tensor]): All backbone maps.

        Returns:
            list[Tensor]: (B, vis_channels, h, w) per level.
        """
        feats = self._transform_inputs(inputs)
        visual = [
            l2_normalize(lateral(x), dim=1)
            for lateral, x in zip(self.laterals, feats)
        ]
        sizes = {tuple(int(n) for n in v.shape[-2:]) for v in visual}
        if len(sizes) != 1:
            raise ValueError(
                f'{type(self).__name__}: the projected levels are on '
                f'different grids {sorted(sizes)}; set lateral_strides so '
                'that every level lands on the deepest one (2 for a map at '
                'twice its resolution).')
        return visual

    @staticmethod
    def unit_words(text: TextFeatures) -> Tensor:
        """The word features at unit length, 0 at padding (the references
        L2-normalise the LSTM outputs).

        Args:
            text (TextFeatures): ``words`` (B, T, C_t) and ``mask``.

        Returns:
            Tensor: (B, T, C_t).
        """
        return l2_normalize(text.words, dim=2) * text.mask[..., None]

    @staticmethod
    def grid_inputs(visual: List[Tensor],
                    sentence: Tensor) -> Tuple[Tensor, Tensor]:
        """The coordinate channels of the fused grid and the sentence
        vector tiled over it.

        Args:
            visual (list[Tensor]): The projected levels (B, C_v, h, w).
            sentence (Tensor): (B, C_t).

        Returns:
            tuple[Tensor, Tensor]: (B, 8, h, w) and (B, C_t, h, w).
        """
        b, _, h, w = visual[0].shape
        coords = spatial_coordinates(b, h, w, visual[0].device,
                                     visual[0].dtype)
        return coords, sentence[..., None, None].expand(-1, -1, h, w)

    @abstractmethod
    def fuse(self, visual: List[Tensor],
             text: TextFeatures) -> Tuple[List[Tensor], List[Tensor]]:
        """Fuse the levels with the text.

        Args:
            visual (list[Tensor]): (B, vis_channels, h, w) per level, unit
                length over channels.
            text (TextFeatures): The batch's text record.

        Returns:
            tuple[list[Tensor], list[Tensor]]: The fused levels F (B, C,
            h, w), scored for the level losses, and the maps R that
            :attr:`refine_order` indexes.
        """

    def _outputs(self, inputs: List[Tensor], text: TextFeatures,
                 with_levels: bool) -> Tuple[Tensor, List[Tensor]]:
        levels, refine = self.fuse(self.project(inputs), text)
        state = self.conv_lstm([refine[i] for i in self.refine_order])
        final = self.conv_seg(state)
        scores = [score(f) for score, f in zip(self.level_scores, levels)
                  ] if with_levels else []
        return final, scores

    def forward(self, inputs: List[Tensor], text: TextFeatures) -> Tensor:
        """The final logits.

        Args:
            inputs (list[Tensor]): Backbone maps.
            text (TextFeatures): The batch's text record.

        Returns:
            Tensor: (B, 1, h, w) target logits on the fused grid.
        """
        return self._outputs(inputs, text, with_levels=False)[0]

    def loss(self, inputs: List[Tensor], text: TextFeatures,
             batch_data_samples: SampleList,
             train_cfg: ConfigType) -> Dict[str, Tensor]:
        """The weighted losses of the final and the level logits.

        Args:
            inputs (list[Tensor]): Backbone maps.
            text (TextFeatures): The batch's text record.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.
            train_cfg (dict): Unused.

        Returns:
            dict[str, Tensor]: The loss items and ``acc_seg`` (pixel
            accuracy of the final map, in percent).
        """
        final, levels = self._outputs(inputs, text, with_levels=True)
        label = self._stack_batch_gt(batch_data_samples)
        losses = self._weighted_losses(final, label, self.final_loss_weight,
                                       '')
        for i, logits in enumerate(levels):
            losses.update(
                self._weighted_losses(logits, label, self.level_loss_weight,
                                      f'_level{i}'))
        losses['acc_seg'] = self._accuracy(final, label)
        return losses

    def _upsample(self, logits: Tensor, size) -> Tensor:
        return F.interpolate(
            logits,
            size=tuple(size),
            mode='bilinear',
            align_corners=self.align_corners)

    def _weighted_losses(self, logits: Tensor, label: Tensor, weight: float,
                         suffix: str) -> Dict[str, Tensor]:
        logits = self._upsample(logits, label.shape[2:])
        label = label.squeeze(1)
        losses_decode = self.loss_decode if isinstance(
            self.loss_decode, nn.ModuleList) else [self.loss_decode]
        losses = {}
        for loss_decode in losses_decode:
            name = loss_decode.loss_name + suffix
            value = weight * loss_decode(
                logits, label, weight=None, ignore_index=self.ignore_index)
            losses[name] = losses[name] + value if name in losses else value
        return losses

    def _accuracy(self, logits: Tensor, label: Tensor) -> Tensor:
        with torch.no_grad():
            logits = self._upsample(logits, label.shape[2:])[:, 0]
            label = label.squeeze(1)
            valid = label != self.ignore_index
            pred = (logits.sigmoid() > self.threshold).long()
            correct = ((pred == label) & valid).sum()
            return correct.float() * 100. / valid.sum().clamp(min=1)


__all__ = ['RecurrentRefineHead']
