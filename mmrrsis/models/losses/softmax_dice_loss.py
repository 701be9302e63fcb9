"""Soft Dice over every class, summed over the batch and the classes
(RMSIN)."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from mmrrsis.registry import MODELS

from .base_pixel_loss import BasePixelLoss


@MODELS.register_module()
class SoftmaxDiceLoss(BasePixelLoss):
    """Soft Dice of the softmax probabilities of every class.

    With ``p = softmax(x)`` over the K classes and the one-hot ground
    truth ``g``, for sample b and class k over the pixels that are not
    ``ignore_index``::

        D_bk = (2 sum(p_bk g_bk) + smooth) / (sum(p_bk) + sum(g_bk) + smooth)
        L    = loss_weight * reduce_{b, k} (1 - D_bk)

    ``reduction='sum'`` adds the B * K terms, as RMSIN's loss does (its
    total is ``0.9 * weighted CE + 0.1 * this``, so the Dice term grows
    with the batch size); ``'mean'`` averages them. Both classes count,
    background included; :class:`TargetDiceLoss` is the per-expression
    target-only variant.

    Args:
        smooth (float): Added to numerator and denominator. Defaults to
            1e-6 (RMSIN).
        reduction (str): ``'sum'`` or ``'mean'``. Defaults to ``'sum'``.
        loss_weight (float): Multiplier. Defaults to 1.
        loss_name (str): Key in the loss dict. Defaults to
            ``'loss_dice'``.
    """

    def __init__(self,
                 smooth: float = 1e-6,
                 reduction: str = 'sum',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__(loss_weight, loss_name)
        if reduction not in ('sum', 'mean'):
            raise ValueError(
                f'reduction must be "sum" or "mean", got "{reduction}".')
        self.smooth = smooth
        self.reduction = reduction

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """Sum (or mean) over samples and classes of 1 - Dice
        (``weight`` unused)."""
        num_classes = cls_score.shape[1]
        prob = cls_score.float().softmax(dim=1)
        valid = (label != ignore_index).unsqueeze(1).to(prob.dtype)
        target = F.one_hot(
            label.masked_fill(label == ignore_index, 0).long(),
            num_classes).permute(0, 3, 1, 2).to(prob.dtype)
        prob, target = prob * valid, target * valid
        inter = (prob * target).flatten(2).sum(-1)
        union = prob.flatten(2).sum(-1) + target.flatten(2).sum(-1)
        loss = 1 - (2 * inter + self.smooth) / (union + self.smooth)
        return loss.sum() if self.reduction == 'sum' else loss.mean()
