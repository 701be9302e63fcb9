"""The interface of a neck that takes the text record."""
from abc import ABCMeta, abstractmethod
from typing import List, Sequence

from torch import Tensor

from mmrrsis.models.utils import (
    MultiScaleTextModule,
    TextConditioned,
    TextFeatures,
)


class BaseTextNeck(MultiScaleTextModule, TextConditioned, metaclass=ABCMeta):
    """A neck between the image encoder and the decode head that reads the
    expression.

    The segmentor calls ``neck(feats, text)`` with the multi-scale maps
    ``feats`` = F_1..F_n, (B, C_i, H_i, W_i), shallow first, and the
    batch's :class:`~mmrrsis.models.utils.TextFeatures`. A neck returns n
    maps with the shapes of its inputs unless its docstring says
    otherwise, so the decode head is the same with and without it. A neck
    that needs no text is a plain mmseg neck (``forward(feats)``).

    Its arguments are those of
    :class:`~mmrrsis.models.utils.MultiScaleTextModule` (``in_channels``
    C_1..C_n, ``text_channels``, ``init_cfg``).
    """

    def check_inputs(self, inputs: Sequence[Tensor]) -> List[Tensor]:
        """Raise unless there is one map per entry of ``in_channels``."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} expected '
                             f'{len(self.in_channels)} feature maps, got '
                             f'{len(inputs)}.')
        for i, (feat, channels) in enumerate(zip(inputs, self.in_channels)):
            if feat.dim() != 4 or feat.shape[1] != channels:
                raise ValueError(
                    f'{type(self).__name__}: feature map {i} has shape '
                    f'{tuple(feat.shape)}, expected (B, {channels}, H, W).')
        return list(inputs)

    @abstractmethod
    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Transform multi-scale maps under the guidance of the text.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            text (TextFeatures): The batch's text record.

        Returns:
            list[Tensor]: The output maps.
        """


__all__ = ['BaseTextNeck']
