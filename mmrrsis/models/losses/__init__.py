"""Losses."""
from .target_dice_loss import TargetDiceLoss
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = ['TargetDiceLoss', 'WeightedCrossEntropyLoss']
