"""Backbones: language-aware image encoders."""
from .language_aware_swin import LanguageAwareSwin

__all__ = ['LanguageAwareSwin']
