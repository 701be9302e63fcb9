"""The interface of mmseg's decode-head losses, written once."""
from abc import ABCMeta, abstractmethod
from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor


class BasePixelLoss(BaseModule, metaclass=ABCMeta):
    """A loss in ``decode_head.loss_decode``, called by mmseg as
    ``loss(seg_logits, seg_label, weight=..., ignore_index=...)``.

    ``seg_logits`` (B, K, H, W) are the logits at the label's size,
    ``seg_label`` (B, H, W) the class indices (``ignore_index`` where
    unlabelled, e.g. padding), ``weight`` optional (B, H, W) pixel
    weights. The result is ``loss_weight`` times :meth:`compute`, reported
    under :attr:`loss_name`.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        loss_name (str): Key in the loss dict; must start with ``loss_``.
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """Name of the loss item."""
        return self._loss_name

    @abstractmethod
    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """The unweighted scalar loss; see the class docstring."""

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): (B, K, H, W) logits.
            label (Tensor): (B, H, W) class indices or ``ignore_index``.
            weight (Tensor, optional): (B, H, W) pixel weights, for the
                losses that use them. Defaults to None.
            ignore_index (int): Label of ignored pixels. Defaults to 255.

        Returns:
            Tensor: Scalar loss.
        """
        return self.loss_weight * self.compute(cls_score, label, weight,
                                               ignore_index)
