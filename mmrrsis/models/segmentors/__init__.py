"""Segmentors."""
from .dicor_encoder_decoder import DiCoREncoderDecoder
from .rrsis_encoder_decoder import RRSISEncoderDecoder
from .rsrefseg2 import RSRefSeg2, RSRefSeg2ImageFeatures

__all__ = [
    'DiCoREncoderDecoder', 'RRSISEncoderDecoder', 'RSRefSeg2',
    'RSRefSeg2ImageFeatures'
]
