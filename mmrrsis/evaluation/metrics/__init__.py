"""Metrics of referring segmentation."""
from .rrsis_metric import RRSISMetric, intersection_and_union, summarize

__all__ = ['RRSISMetric', 'intersection_and_union', 'summarize']
