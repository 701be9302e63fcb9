"""Losses."""
from .weighted_cross_entropy_loss import WeightedCrossEntropyLoss

__all__ = ['WeightedCrossEntropyLoss']
