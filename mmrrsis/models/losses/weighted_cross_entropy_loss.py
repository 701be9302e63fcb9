"""Class-weighted cross-entropy as PyTorch (and LAVT) define it."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmrrsis.registry import MODELS

from .base_pixel_loss import BasePixelLoss


@MODELS.register_module()
class WeightedCrossEntropyLoss(BasePixelLoss):
    """Pixel-wise softmax cross-entropy with class weights.

    .. math::

        L = \\frac{\\sum_p w_{y_p} \\, \\mathrm{CE}(x_p, y_p)}
                  {\\sum_p w_{y_p}}

    over the pixels p whose label is not ``ignore_index``: the weighted
    mean of ``F.cross_entropy(..., weight=class_weight)``, which is LAVT's
    loss with weights (0.9, 1.1). Unlike mmseg 1.2's ``CrossEntropyLoss``
    with ``class_weight``, it accepts ignored (padded) pixels.

    Args:
        class_weight (Sequence[float], optional): One weight per class.
            Defaults to None (all 1).
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        loss_name (str): Key in the loss dict; must start with ``loss_``.
            Defaults to ``'loss_ce'``.
    """

    def __init__(self,
                 class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__(loss_weight, loss_name)
        self.class_weight = None if class_weight is None else list(
            class_weight)

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """The weighted mean cross-entropy; ``weight`` (B, H, W) are extra
        pixel weights (e.g. from a pixel sampler)."""
        class_weight = None
        if self.class_weight is not None:
            class_weight = cls_score.new_tensor(self.class_weight)
        losses = F.cross_entropy(
            cls_score,
            label,
            weight=class_weight,
            ignore_index=ignore_index,
            reduction='none')
        valid = (label != ignore_index).to(cls_score.dtype)
        if class_weight is not None:
            safe = torch.where(label == ignore_index,
                               torch.zeros_like(label), label)
            valid = valid * class_weight[safe]
        if weight is not None:
            losses = losses * weight
            valid = valid * weight
        return losses.sum() / valid.sum().clamp(min=1e-12)
