"""Referring segmentation datasets, their transforms and generated data."""
from .base_referring_dataset import (
    REFERRING_METAINFO,
    TEXT_MODES,
    BaseReferringDataset,
)
from .dataset_wrappers import ShuffledTextDataset
from .prompt_bank import PromptBank, PromptBankDataset, PromptBankError
from .refer import ReferDataset, RRSISDDataset
from .refsegrs import RefSegRSDataset, SyntheticRefSegRSDataset
from .safe_pickle import UnsafePickleError, loads_plain
from .text_utils import REFSEGRS_CATEGORIES, find_category, normalize_text
from .transforms import (
    CleanText,
    LoadReferringAnnotations,
    PackRRSISInputs,
    RandomSentence,
    ReferringRandomFlip,
)

__all__ = [
    'BaseReferringDataset', 'ReferDataset', 'RRSISDDataset',
    'RefSegRSDataset', 'SyntheticRefSegRSDataset', 'REFERRING_METAINFO',
    'TEXT_MODES', 'REFSEGRS_CATEGORIES', 'find_category', 'normalize_text',
    'CleanText', 'LoadReferringAnnotations', 'PackRRSISInputs',
    'RandomSentence', 'ReferringRandomFlip', 'ShuffledTextDataset',
    'UnsafePickleError', 'loads_plain', 'PromptBank', 'PromptBankDataset',
    'PromptBankError'
]
