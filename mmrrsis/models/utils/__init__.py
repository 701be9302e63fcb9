"""Model utilities: checkpoint key conversion."""
from .ckpt_convert import convert_lavt, patch_merging_order

__all__ = ['convert_lavt', 'patch_merging_order']
