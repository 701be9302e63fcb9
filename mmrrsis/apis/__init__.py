"""Inference: build a model, predict masks of expressions, an inferencer."""
from .inference import (
    as_pair,
    inference_model,
    init_model,
    keeps_size,
    set_slide_inference,
)
from .inputs import (
    SCALING_KEYS,
    ImageType,
    array_to_bgr,
    image_loader,
    load_image,
    pair_inputs,
)
from .model_checks import check_text_model, has_text_encoder
from .model_config import (
    drop_pretrained_init,
    load_config,
    make_offline,
    prepare_for_checkpoint,
)
from .pipeline import InferencePipeline, get_test_pipeline_cfg
from .predictor import WindowPredictor
from .prompt_bank import PromptBankBuildError, build_prompt_bank
from .rrsis_inferencer import RRSISInferencer
from .scene import SceneInferencer, SceneResult
from .weights import (
    MAX_ABS_WEIGHT,
    CheckpointMismatchError,
    check_weights,
    load_checkpoint_checked,
)

__all__ = [
    'MAX_ABS_WEIGHT', 'CheckpointMismatchError', 'ImageType', 'as_pair',
    'InferencePipeline', 'RRSISInferencer', 'make_offline',
    'check_text_model', 'check_weights', 'drop_pretrained_init',
    'get_test_pipeline_cfg', 'has_text_encoder', 'inference_model',
    'init_model', 'keeps_size', 'load_checkpoint_checked', 'load_config',
    'load_image', 'pair_inputs', 'prepare_for_checkpoint',
    'set_slide_inference', 'SceneInferencer', 'SceneResult', 'SCALING_KEYS',
    'array_to_bgr', 'image_loader', 'WindowPredictor',
    'PromptBankBuildError', 'build_prompt_bank'
]
