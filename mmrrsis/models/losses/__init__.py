"""Losses (the interface: :class:`BasePixelLoss`)."""
from .base_pixel_loss import BasePixelLoss
from .binary_logistic_loss import BinaryLogisticLoss
from .localization_loss import LocalizationLoss
from .mask_text_contrastive_loss import MaskTextContrastiveLoss
from .query_separation_loss import QuerySeparationLoss
from .refiner_loss import RefinerLoss, focus_map
from .sigmoid_dice_loss import SigmoidDiceLoss
from .softmax_dice_loss import SoftmaxDiceLoss
from .target_dice_loss import TargetDiceLoss
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = [
    'BasePixelLoss', 'BinaryLogisticLoss', 'LocalizationLoss',
    'MaskTextContrastiveLoss', 'QuerySeparationLoss', 'RefinerLoss',
    'SigmoidDiceLoss', 'SoftmaxDiceLoss', 'TargetDiceLoss',
    'WeightedCrossEntropyLoss', 'focus_map'
]
