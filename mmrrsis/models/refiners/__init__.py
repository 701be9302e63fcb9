"""Refiners: modules that correct a model's logits from the image and the
model's own foreground probability (DiCoR's contour recalibration)."""
from .refine_unet import RefineUNet, prob_to_logits

__all__ = ['RefineUNet', 'prob_to_logits']
