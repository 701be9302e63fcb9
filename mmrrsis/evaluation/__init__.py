"""Evaluation of referring segmentation: metrics and their settings."""
from .metrics import (
    RRSISMetric,
    gres_summarize,
    intersection_and_union,
    summarize,
)
from .resolution import reorder_pipeline, set_eval_resolution

__all__ = [
    'RRSISMetric', 'gres_summarize', 'intersection_and_union',
    'reorder_pipeline', 'set_eval_resolution', 'summarize'
]
