"""Evaluation of referring segmentation: metrics and their settings."""
from .metrics import RRSISMetric, intersection_and_union, summarize
from .resolution import reorder_pipeline, set_eval_resolution

__all__ = [
    'RRSISMetric', 'intersection_and_union', 'reorder_pipeline',
    'set_eval_resolution', 'summarize'
]
