"""Backbones: language-aware image encoders."""
from .language_aware_swin import LanguageAwareSwin
from .sam2_image_encoder import (
    SAM2ImageEncoder,
    load_sam2_pretrained,
    sam2_config,
)
from .siglip_vision_encoder import SiglipVisionEncoder

__all__ = [
    'LanguageAwareSwin', 'SAM2ImageEncoder', 'SiglipVisionEncoder',
    'load_sam2_pretrained', 'sam2_config'
]
