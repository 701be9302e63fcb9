"""Necks: text-aware necks (LGCE, late fusion) share
:class:`BaseTextNeck`."""
from .base_text_neck import BaseTextNeck
from .lavt_fusion_neck import LAVTFusionNeck
from .lgce_neck import LGCENeck
from .lgce_rsfm_neck import LGCERSFMNeck

__all__ = ['BaseTextNeck', 'LAVTFusionNeck', 'LGCENeck', 'LGCERSFMNeck']
