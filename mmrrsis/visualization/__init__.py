"""Visualisation of referring segmentation: visualizer and hook."""
from .local_visualizer import RRSISLocalVisualizer, wrap_text
from .visualization_hook import RRSISVisualizationHook

__all__ = ['RRSISLocalVisualizer', 'RRSISVisualizationHook', 'wrap_text']
