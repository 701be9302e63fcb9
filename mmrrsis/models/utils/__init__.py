"""Model utilities: the text record, checkpoint key conversion."""
from .ckpt_convert import convert_lavt, patch_merging_order
from .text_features import (
    POOLINGS,
    MultiScaleTextModule,
    TextConditioned,
    TextFeatures,
    pool_words,
    takes_text,
)

__all__ = [
    'convert_lavt', 'patch_merging_order', 'POOLINGS', 'MultiScaleTextModule',
    'TextConditioned', 'TextFeatures', 'pool_words', 'takes_text'
]
