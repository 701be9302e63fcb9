"""Segmentors."""
from .rrsis_encoder_decoder import RRSISEncoderDecoder
from .rsrefseg2 import RSRefSeg2, RSRefSeg2ImageFeatures

__all__ = ['RRSISEncoderDecoder', 'RSRefSeg2', 'RSRefSeg2ImageFeatures']
