"""Guides: modules the segmentor calls between the backbone and the neck
to steer features towards the referred object (DiCoR's localization
guide)."""
from .localization_guide import (
    CandidateRanker,
    Candidates,
    EvidenceHead,
    LocalizationGuide,
    PeakPicker,
    candidate_geometry,
    masked_softmax,
)

__all__ = [
    'CandidateRanker', 'Candidates', 'EvidenceHead', 'LocalizationGuide',
    'PeakPicker', 'candidate_geometry', 'masked_softmax'
]
