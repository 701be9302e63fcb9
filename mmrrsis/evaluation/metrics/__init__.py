"""Metrics of referring segmentation."""
from .rrsis_metric import (
    RRSISMetric,
    gres_summarize,
    intersection_and_union,
    summarize,
)

__all__ = [
    'RRSISMetric', 'gres_summarize', 'intersection_and_union', 'summarize'
]
