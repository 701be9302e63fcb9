"""Evaluation of referring segmentation: metrics."""
from .metrics import (
    RRSISMetric,
    intersection_and_union,
    sample_name,
    summarize,
)

__all__ = [
    'RRSISMetric', 'intersection_and_union', 'sample_name', 'summarize'
]
