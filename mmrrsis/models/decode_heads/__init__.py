"""Decode heads; a head that reads the text subclasses
:class:`BaseTextDecodeHead`."""
from .base_text_decode_head import BaseTextDecodeHead
from .cmpc_head import CMPCHead
from .lscm_head import LSCMHead
from .no_target_head import NoTargetHead, no_target_labels
from .recurrent_refine_head import RecurrentRefineHead
from .referring_decode_head import ReferringDecodeHead
from .rotated_decode_head import RotatedDecodeHead
from .sam2_mask_head import SAM2ImageFeatures, SAM2MaskHead

__all__ = [
    'BaseTextDecodeHead', 'CMPCHead', 'LSCMHead', 'NoTargetHead',
    'RecurrentRefineHead', 'ReferringDecodeHead', 'RotatedDecodeHead',
    'SAM2ImageFeatures', 'SAM2MaskHead', 'no_target_labels'
]
