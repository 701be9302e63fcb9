"""Sigmoid cross-entropy of one-logit heads (the references'
``weighed_logistic_loss``)."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor

from mmrrsis.registry import MODELS

from .base_pixel_loss import BasePixelLoss

REDUCTIONS = ('image_sum', 'mean')


@MODELS.register_module()
class BinaryLogisticLoss(BasePixelLoss):
    """Sigmoid cross-entropy of a head with one target logit per pixel.

    With x_p the logit, y_p in {0, 1} the label and w_p = ``pos_weight`` on
    target pixels, ``neg_weight`` elsewhere (pixels labelled
    ``ignore_index`` left out)::

        l_p = w_p * BCE(sigmoid(x_p), y_p)
        'image_sum': L = mean over images of sum_p l_p
        'mean':      L = sum_p l_p / number of pixels

    ``'image_sum'`` is what RRN, LSCM and CMPC minimise
    (``util/loss.py``, ``weighed_logistic_loss``, both weights 1): its size
    grows with the image, which Adam's step does not feel, but a weight
    decay added to it does.

    Args:
        reduction (str): ``'image_sum'`` or ``'mean'``. Defaults to
            ``'image_sum'``.
        pos_weight (float): Weight of target pixels. Defaults to 1.
        neg_weight (float): Weight of background pixels. Defaults to 1.
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        loss_name (str): Key in the loss dict. Defaults to ``'loss_bce'``.
    """

    def __init__(self,
                 reduction: str = 'image_sum',
                 pos_weight: float = 1.,
                 neg_weight: float = 1.,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_bce') -> None:
        super().__init__(loss_weight, loss_name)
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got '
                             f'{reduction!r}.')
        self.reduction = reduction
        self.pos_weight = pos_weight
        self.neg_weight = neg_weight

    def compute(self, cls_score: Tensor, label: Tensor,
                weight: Optional[Tensor], ignore_index: int) -> Tensor:
        """The loss of (B, 1, H, W) logits; ``weight`` (B, H, W) are extra
        pixel weights."""
        if cls_score.dim() != 4 or cls_score.shape[1] != 1:
            raise ValueError(
                'BinaryLogisticLoss takes one logit per pixel, (B, 1, H, W); '
                f'got {tuple(cls_score.shape)} (use WeightedCrossEntropyLoss '
                'for a two-class head).')
        logits = cls_score[:, 0].float()
        valid = (label != ignore_index).to(logits.dtype)
        target = (label == 1).to(logits.dtype)
        pixel = F.binary_cross_entropy_with_logits(
            logits, target, reduction='none')
        pixel_weight = (self.pos_weight * target + self.neg_weight *
                        (1 - target)) * valid
        if weight is not None:
            pixel_weight = pixel_weight * weight
        pixel = pixel * pixel_weight
        if self.reduction == 'image_sum':
            return pixel.flatten(1).sum(1).mean()
        return pixel.sum() / valid.sum().clamp(min=1.)
