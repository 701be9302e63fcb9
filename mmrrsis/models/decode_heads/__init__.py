"""Decode heads."""
from .referring_decode_head import ReferringDecodeHead

__all__ = ['ReferringDecodeHead']
