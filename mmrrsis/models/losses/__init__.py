"""Losses (the interface: :class:`BasePixelLoss`)."""
from .base_pixel_loss import BasePixelLoss
from .localization_loss import LocalizationLoss
from .refiner_loss import RefinerLoss, focus_map
from .softmax_dice_loss import SoftmaxDiceLoss
from .target_dice_loss import TargetDiceLoss
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = [
    'BasePixelLoss', 'SoftmaxDiceLoss', 'TargetDiceLoss',
    'WeightedCrossEntropyLoss', 'LocalizationLoss', 'RefinerLoss',
    'focus_map'
]
