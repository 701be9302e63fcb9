"""Segmentors."""
from .rrsis_encoder_decoder import RRSISEncoderDecoder

__all__ = ['RRSISEncoderDecoder']
