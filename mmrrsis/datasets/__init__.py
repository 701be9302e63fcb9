"""Referring segmentation datasets, their transforms and generated data."""
from .dataset_wrappers import ShuffledTextDataset
from .refer import ReferDataset, RRSISDDataset
from .refsegrs import (
    REFERRING_METAINFO,
    RefSegRSDataset,
    SyntheticRefSegRSDataset,
)
from .text_utils import REFSEGRS_CATEGORIES, find_category, normalize_text
from .transforms import (
    CleanText,
    LoadReferringAnnotations,
    PackRRSISInputs,
    RandomSentence,
    ReferringRandomFlip,
)

__all__ = [
    'ReferDataset', 'RRSISDDataset', 'RefSegRSDataset',
    'SyntheticRefSegRSDataset', 'REFERRING_METAINFO',
    'REFSEGRS_CATEGORIES', 'find_category', 'normalize_text', 'CleanText',
    'LoadReferringAnnotations', 'PackRRSISInputs', 'RandomSentence',
    'ReferringRandomFlip', 'ShuffledTextDataset'
]
