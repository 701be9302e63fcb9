"""Soft Dice on the referred target, one score per expression."""
from typing import Optional

from torch import Tensor

from mmrrsis.registry import MODELS

from .base_pixel_loss import BasePixelLoss


@MODELS.register_module()
class TargetDiceLoss(BasePixelLoss):
    """Soft Dice loss of the target class, averaged over the expressions.

    For sample b with target probability ``p = softmax(x)[:, target]``
    (``sigmoid(x)`` for a head with one logit, (B, 1, H, W)) and binary
    ground truth g, over its pixels that are not ``ignore_index``::

        L_b = 1 - (2 * sum(p * g) + eps) / (sum(p) + sum(g) + eps)
        L = loss_weight * mean_b L_b

    Unlike mmseg's ``DiceLoss``, which pools both classes into one score
    that the background dominates, each expression's target counts the
    same however small it is — what the referring metrics (mIoU, Prec@X)
    reward. Use it next to the cross-entropy for small, scattered targets.

    Args:
        target_class (int): Channel of the referred target. Defaults to 1.
        eps (float): Smoothing; an empty target predicted empty scores 0.
            Defaults to 1.
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        loss_name (str): Key in the loss dict. Defaults to
            ``'loss_dice'``.
    """

    def __init__(self,
                 target_class: int = 1,
                 eps: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__(loss_weight, loss_name)
        self.target_class = target_class
        self.eps = eps

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """Mean over the expressions of 1 - Dice (``weight`` unused: a
        per-sample ratio has no pixel weights)."""
        if cls_score.shape[1] == 1:  # one target logit: sigmoid
            prob = cls_score.float()[:, 0].sigmoid()
        else:
            prob = cls_score.float().softmax(dim=1)[:, self.target_class]
        valid = (label != ignore_index).to(prob.dtype)
        gt = (label == self.target_class).to(prob.dtype)
        prob = prob * valid
        inter = (prob * gt).flatten(1).sum(1)
        total = prob.flatten(1).sum(1) + gt.flatten(1).sum(1)
        dice = (2 * inter + self.eps) / (total + self.eps)
        return (1 - dice).mean()
