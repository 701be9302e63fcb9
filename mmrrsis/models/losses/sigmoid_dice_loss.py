"""Dice on the sigmoid of a one-channel mask logit, one score per sample."""
from typing import Optional

from torch import Tensor

from mmrrsis.registry import MODELS

from .base_pixel_loss import BasePixelLoss


@MODELS.register_module()
class SigmoidDiceLoss(BasePixelLoss):
    """The Dice loss of V-Net on a binary mask predicted by one logit
    channel, averaged over the samples.

    For sample b with ``p = sigmoid(x)`` and binary ground truth g (label
    1), over its pixels that are not ``ignore_index``::

        D_b = 2 sum(p g) / (sum(p^2) + eps + sum(g^2) + eps)
        L = loss_weight * mean_b (1 - D_b)

    This is what RSRefSeg2 trains with (mmseg's ``DiceLoss`` with
    ``use_sigmoid=True`` as its fork modifies it for one channel; mmseg's
    own would score the background channel). Ignored pixels (padding)
    count nowhere here; the fork adds the label value 255 of padded pixels
    to the sums, which changes nothing for its unpadded square images.

    Args:
        eps (float): Added to each sum of squares. Defaults to 1e-3.
        loss_weight (float): Multiplier. Defaults to 1.
        loss_name (str): Key in the loss dict. Defaults to
            ``'loss_dice'``.
    """

    def __init__(self,
                 eps: float = 1e-3,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dice') -> None:
        super().__init__(loss_weight, loss_name)
        self.eps = eps

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """Mean over the samples of 1 - Dice (``weight`` unused).

        Args:
            cls_score (Tensor): (B, 1, H, W) logits.
            label (Tensor): (B, H, W) 0 / 1 / ``ignore_index``.
        """
        if cls_score.shape[1] != 1:
            raise ValueError('SigmoidDiceLoss takes one logit channel, got '
                             f'{cls_score.shape[1]}')
        prob = cls_score[:, 0].sigmoid()
        valid = label != ignore_index
        # the 0/1 target in float32, as the reference sums it
        gt = ((label == 1) & valid).flatten(1).float()
        prob = (prob * valid.to(prob.dtype)).flatten(1)
        inter = (prob * gt).sum(1)
        pred_sq = (prob * prob).sum(1) + self.eps
        gt_sq = (gt * gt).sum(1) + self.eps
        return (1 - 2 * inter / (pred_sq + gt_sq)).mean()
