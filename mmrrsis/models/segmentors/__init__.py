"""Segmentors."""
from .dicor_encoder_decoder import DiCoREncoderDecoder
from .rrsis_encoder_decoder import RRSISEncoderDecoder

__all__ = ['DiCoREncoderDecoder', 'RRSISEncoderDecoder']
