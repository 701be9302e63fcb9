"""Referring segmentation datasets, their transforms and generated data."""
from .base_referring_dataset import (
    REFERRING_METAINFO,
    TEXT_MODES,
    BaseReferringDataset,
)
from .dataset_wrappers import ShuffledTextDataset
from .jsonl import JSONLReferringDataset
from .prompt_bank import PromptBank, PromptBankDataset, PromptBankError
from .refer import (
    GRefCOCODataset,
    ReferDataset,
    RRSISDDataset,
    SyntheticGRefCOCODataset,
)
from .refsegrs import RefSegRSDataset, SyntheticRefSegRSDataset
from .risbench import RISBenchDataset
from .safe_pickle import UnsafePickleError, loads_plain
from .text_utils import (
    REFSEGRS_CATEGORIES,
    RISBENCH_CATEGORIES,
    find_category,
    normalize_text,
)
from .transforms import (
    CleanText,
    LoadReferringAnnotations,
    PackRRSISInputs,
    RandomSentence,
    ReferringRandomFlip,
)

__all__ = [
    'BaseReferringDataset', 'ReferDataset', 'RRSISDDataset', 'GRefCOCODataset',
    'SyntheticGRefCOCODataset',
    'JSONLReferringDataset',
    'RefSegRSDataset', 'SyntheticRefSegRSDataset', 'RISBenchDataset',
    'RISBENCH_CATEGORIES', 'REFERRING_METAINFO',
    'TEXT_MODES', 'REFSEGRS_CATEGORIES', 'find_category', 'normalize_text',
    'CleanText', 'LoadReferringAnnotations', 'PackRRSISInputs',
    'RandomSentence', 'ReferringRandomFlip', 'ShuffledTextDataset',
    'UnsafePickleError', 'loads_plain', 'PromptBank', 'PromptBankDataset',
    'PromptBankError'
]
