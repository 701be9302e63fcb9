"""Metrics of referring segmentation."""
from .rrsis_metric import (
    RRSISMetric,
    gres_summarize,
    intersection_and_union,
    sample_name,
    summarize,
)

__all__ = [
    'RRSISMetric', 'gres_summarize', 'intersection_and_union',
    'sample_name', 'summarize'
]
