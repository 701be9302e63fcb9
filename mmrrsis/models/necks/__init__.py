"""Necks: text-aware necks (LGCE, late fusion) share
:class:`BaseTextNeck`; RMSIN's cross-scale interaction is a plain neck."""
from .base_text_neck import BaseTextNeck
from .cross_scale_interaction import CrossScaleInteraction
from .lavt_fusion_neck import LAVTFusionNeck
from .lgce_neck import LGCENeck
from .lgce_rsfm_neck import LGCERSFMNeck
from .text_aware_multiscale_enhancement import (
    TextAwareMultiScaleEnhancement,
    TMEMBlock,
)
from .vmsf import LVMSFBlock, LVMSFNeck, VMSFBlock, VMSFNeck

__all__ = [
    'BaseTextNeck', 'CrossScaleInteraction', 'LAVTFusionNeck', 'LGCENeck',
    'LGCERSFMNeck', 'TextAwareMultiScaleEnhancement', 'TMEMBlock',
    'LVMSFBlock', 'LVMSFNeck', 'VMSFBlock', 'VMSFNeck'
]
