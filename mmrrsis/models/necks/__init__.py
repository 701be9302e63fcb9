"""Necks: LAVT's pixel-word fusion and LGCE."""
from .lavt_fusion_neck import LAVTFusionNeck, PixelWordAttention
from .lgce_neck import LGCENeck

__all__ = ['LAVTFusionNeck', 'PixelWordAttention', 'LGCENeck']
