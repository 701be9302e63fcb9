"""Fusions: the per-stage language fusion that a language-aware backbone
calls (see :class:`BaseFusion`)."""
from .base_fusion import BaseFusion, build_stage_fusion
from .fianet_fusion import (
    ChannelWeighting,
    FIANetFusion,
    ObjectPositionAlignment,
)
from .pwam_fusion import PixelWordAttention, PWAMFusion, WordAttention
from .rmsin_fusion import IntraScaleInteraction, RMSINFusion

__all__ = [
    'BaseFusion', 'IntraScaleInteraction', 'PWAMFusion', 'PixelWordAttention',
    'RMSINFusion', 'ChannelWeighting', 'FIANetFusion',
    'ObjectPositionAlignment', 'WordAttention', 'build_stage_fusion'
]
