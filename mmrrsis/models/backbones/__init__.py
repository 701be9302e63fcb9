"""Backbones: language-aware image encoders."""
from .language_aware_backbone import LanguageAwareBackbone
from .language_aware_swin import LanguageAwareSwin
from .sam2_image_encoder import (
    SAM2ImageEncoder,
    load_sam2_pretrained,
    sam2_config,
)
from .siglip_vision_encoder import SiglipVisionEncoder
from .stage_structures import (
    ConvNeXtStages,
    StageStructure,
    SwinStages,
    SwinV2Stages,
    register_stage_structure,
    stage_structure_for,
)
from .swin_layouts import (
    backbone_to_lavt_swin,
    lavt_swin_to_backbone,
    swin_backbone_state_dict,
)

__all__ = [
    'LanguageAwareBackbone', 'LanguageAwareSwin', 'ConvNeXtStages',
    'StageStructure', 'SwinStages', 'SwinV2Stages',
    'register_stage_structure', 'stage_structure_for',
    'backbone_to_lavt_swin', 'lavt_swin_to_backbone',
    'swin_backbone_state_dict', 'SAM2ImageEncoder', 'SiglipVisionEncoder',
    'load_sam2_pretrained', 'sam2_config'
]
