"""Decode heads; a head that reads the text subclasses
:class:`BaseTextDecodeHead`."""
from .base_text_decode_head import BaseTextDecodeHead
from .referring_decode_head import ReferringDecodeHead
from .rotated_decode_head import RotatedDecodeHead
from .sam2_mask_head import SAM2ImageFeatures, SAM2MaskHead

__all__ = [
    'BaseTextDecodeHead', 'ReferringDecodeHead', 'RotatedDecodeHead',
    'SAM2ImageFeatures', 'SAM2MaskHead'
]
