"""Metrics of referring segmentation."""
from .rrsis_metric import (
    RRSISMetric,
    intersection_and_union,
    sample_name,
    summarize,
)

__all__ = [
    'RRSISMetric', 'intersection_and_union', 'sample_name', 'summarize'
]
