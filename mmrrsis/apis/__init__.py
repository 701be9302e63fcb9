"""Inference: build a model, predict masks of expressions, an inferencer."""
from .inference import (
    CheckpointMismatchError,
    InferencePipeline,
    check_text_model,
    has_text_encoder,
    inference_model,
    init_model,
    load_checkpoint_checked,
    load_image,
    pair_inputs,
    set_slide_inference,
)
from .rrsis_inferencer import RRSISInferencer
from .scene import SceneInferencer, SceneResult

__all__ = [
    'CheckpointMismatchError', 'InferencePipeline', 'RRSISInferencer',
    'check_text_model', 'has_text_encoder', 'inference_model', 'init_model',
    'load_checkpoint_checked', 'load_image', 'pair_inputs',
    'set_slide_inference', 'SceneInferencer', 'SceneResult'
]
