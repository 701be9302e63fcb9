"""Data transforms of referring segmentation (strings stay strings)."""
from .formatting import PackRRSISInputs
from .loading import (
    LoadReferringAnnotations,
    binarize_mask,
    decode_segmentation,
    read_mask_file,
)
from .network_size import AdoptNetworkSize
from .phrase_tokens import ObjectPositionPhrases
from .random_boxes import RandomBoxes
from .rs_loading import LoadRSImageFromFile
from .text import CleanText, RandomSentence, TextTransform
from .transforms import ReferringRandomFlip

__all__ = [
    'PackRRSISInputs', 'LoadReferringAnnotations', 'binarize_mask',
    'decode_segmentation', 'read_mask_file', 'CleanText', 'RandomSentence',
    'ReferringRandomFlip', 'RandomBoxes', 'LoadRSImageFromFile',
    'ObjectPositionPhrases', 'AdoptNetworkSize', 'TextTransform'
]
