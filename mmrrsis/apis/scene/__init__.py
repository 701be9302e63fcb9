"""Scene inference: whole (geo)referenced scenes in, georeferenced masks,
polygons and an overview out (see :class:`SceneInferencer`), in stages:
read (:mod:`.source`), predict (:mod:`.predict`), blend (:mod:`.blend`),
write (:mod:`.write`), report (:mod:`.report`)."""
from .blend import BLEND_MODES, RowBuffer, blend_weights, mean_logits
from .evaluate import evaluate_scene_masks
from .overview import draw_overview
from .predict import WindowPlan, run_windows, split_rows
from .progress import RunState
from .report import SceneResult, summarize
from .scene_inferencer import SceneInferencer, training_size
from .source import SceneSource, inspect_raster, open_raster
from .vectorize import VectorLayer, iter_polygons, vectorize_masks
from .write import (
    NODATA,
    SCORE_SCALE,
    SceneOutputs,
    StripWriter,
    assemble,
    output_names,
)

__all__ = [
    'BLEND_MODES', 'NODATA', 'RowBuffer', 'RunState', 'SCORE_SCALE',
    'SceneInferencer', 'SceneOutputs', 'SceneResult', 'SceneSource',
    'StripWriter', 'VectorLayer', 'WindowPlan', 'assemble', 'blend_weights',
    'draw_overview', 'evaluate_scene_masks', 'inspect_raster',
    'iter_polygons', 'mean_logits', 'open_raster', 'output_names',
    'run_windows', 'split_rows', 'summarize', 'training_size',
    'vectorize_masks'
]
