"""Losses (the interface: :class:`BasePixelLoss`)."""
from .base_pixel_loss import BasePixelLoss
from .binary_logistic_loss import BinaryLogisticLoss
from .softmax_dice_loss import SoftmaxDiceLoss
from .target_dice_loss import TargetDiceLoss
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = [
    'BasePixelLoss', 'BinaryLogisticLoss', 'SoftmaxDiceLoss', 'TargetDiceLoss',
    'WeightedCrossEntropyLoss'
]
