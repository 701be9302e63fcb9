"""Scene inference: whole (geo)referenced scenes in, georeferenced masks,
polygons and an overview out (see :class:`SceneInferencer`)."""
from .evaluate import evaluate_scene_masks
from .outputs import NODATA, SCORE_SCALE, RunState, StripWriter, output_names
from .overview import draw_overview
from .scene_inferencer import SceneInferencer, SceneResult, training_size
from .source import SceneSource
from .vectorize import VectorLayer, iter_polygons, vectorize_masks
from .windows import BLEND_MODES, blend_weights, window_spans

__all__ = [
    'BLEND_MODES', 'NODATA', 'RunState', 'SCORE_SCALE', 'SceneInferencer',
    'SceneResult', 'SceneSource', 'StripWriter', 'VectorLayer',
    'blend_weights', 'draw_overview', 'evaluate_scene_masks',
    'iter_polygons', 'output_names', 'training_size', 'vectorize_masks',
    'window_spans'
]
