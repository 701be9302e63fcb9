"""Build a referring segmentor from a config and run it on images + text.

The jobs around it live in their own modules: loading the config
(:mod:`.model_config`), the checkpoint (:mod:`.checkpoint`), the model
checks (:mod:`.model_checks`), the inputs (:mod:`.inputs`) and the test
pipeline (:mod:`.pipeline`).
"""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample

from mmrrsis.registry import MODELS

from .inputs import ImageType, pair_inputs
from .model_checks import check_text_model
from .model_config import load_config, prepare_for_checkpoint
from .pipeline import InferencePipeline
from .weights import load_checkpoint_checked


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None,
               unsafe_load: bool = False) -> nn.Module:
    """Build a referring segmentor from a config and load its weights.

    With a checkpoint, nothing pretrained is loaded first (the checkpoint
    replaces it): backbone ``Pretrained`` init configs are dropped and BERT
    is built from its configuration, not downloaded
    (:func:`~mmrrsis.apis.model_config.prepare_for_checkpoint`).

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint to load; None leaves the
            weights random. Defaults to None.
        device (str, optional): 'cpu', 'cuda', 'cuda:1', ...; None picks
            CUDA when available. Defaults to None.
        cfg_options (dict, optional): Overrides merged into the config,
            e.g. ``{'model.text_encoder.bert_config': {}}``. Defaults to
            None.
        unsafe_load (bool): Unpickle the checkpoint completely, which runs
            any code it names; only for files you trust. Defaults to False.

    Returns:
        nn.Module: The segmentor in eval mode, with ``cfg`` (the config) and
        ``dataset_meta`` set.

    Raises:
        FileNotFoundError: Missing config or checkpoint file.
        ValueError: The model has no text encoder.
        UnsafeCheckpointError: The checkpoint names code to run.
        CorruptCheckpointError: A damaged checkpoint or impossible weights.
        CheckpointMismatchError: The checkpoint is of another model.
    """
    name = str(config) if isinstance(config, (str, Path)) else 'the config'
    cfg = load_config(config, cfg_options)
    cfg.model.pop('pretrained', None)
    cfg.model['train_cfg'] = None
    if checkpoint is not None:
        prepare_for_checkpoint(cfg.model)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    model = MODELS.build(cfg.model)
    check_text_model(model, name)
    model.cfg = cfg
    meta = {}
    if checkpoint is not None:
        meta = load_checkpoint_checked(
            model, checkpoint, unsafe_load=unsafe_load).get('meta', {})
    model.dataset_meta = meta.get('dataset_meta') or dict(
        classes=('background', 'target'),
        palette=[[0, 0, 0], [255, 0, 0]])
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cpu':
        model = revert_sync_batchnorm(model)
    model.to(device)
    model.eval()
    return model


def set_slide_inference(model: nn.Module,
                        crop_size: Union[int, Tuple[int, int]],
                        stride: Union[int, Tuple[int, int]],
                        keep_size: bool = True) -> None:
    """Make ``model`` predict by sliding a window over the image.

    Every window is encoded with the sample's expression and the logits of
    overlapping windows are averaged (mmseg's ``slide_inference``).

    Args:
        model (nn.Module): An mmseg-style segmentor with ``test_cfg``.
        crop_size (int | tuple[int, int]): Window (h, w), e.g. the training
            size (480, 480).
        stride (int | tuple[int, int]): Step (h, w); smaller than the window
            for overlapping crops.
        keep_size (bool): Recorded as ``test_cfg.keep_size``: the inference
            pipelines then skip ``Resize``, so a large tile is cut into
            windows at its own resolution. Defaults to True.
    """
    crop = as_pair(crop_size, 'crop_size')
    step = as_pair(stride, 'stride')
    if step[0] > crop[0] or step[1] > crop[1]:
        raise ValueError(f'stride {step} larger than crop_size {crop} would '
                         'leave pixels out')
    test_cfg = ConfigDict(getattr(model, 'test_cfg', None) or {})
    test_cfg.update(
        mode='slide', crop_size=crop, stride=step, keep_size=keep_size)
    model.test_cfg = test_cfg


def keeps_size(model: nn.Module) -> bool:
    """Whether inference skips ``Resize`` (see :func:`set_slide_inference`).
    """
    test_cfg = getattr(model, 'test_cfg', None) or {}
    return test_cfg.get('mode') == 'slide' and bool(
        test_cfg.get('keep_size', False))


def as_pair(value, name: str) -> Tuple[int, int]:
    """A window size or stride as ``(h, w)``.

    Args:
        value (int | Sequence[int]): One positive int (square) or (h, w).
        name (str): The argument's name, for the error message.

    Returns:
        tuple[int, int]: (h, w).

    Raises:
        ValueError: Not one or two positive ints.
    """
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2 or min(value) <= 0:
        raise ValueError(f'{name} must be a positive int or (h, w), got '
                         f'{value}')
    return value


def inference_model(model: nn.Module,
                    img: Union[ImageType, Sequence[ImageType]],
                    texts: Union[str, Sequence[str]],
                    batch_size: int = 1,
                    scaling: Optional[dict] = None
                    ) -> Union[SegDataSample, List[SegDataSample]]:
    """Predict the masks of expressions on images.

    Args:
        model (nn.Module): From :func:`init_model` (it needs ``model.cfg``).
        img (str | np.ndarray | Sequence): Image file(s) or array(s):
            8-bit (H, W, 3) BGR or (H, W) grey without a scaling, (H, W,
            bands) in band order with one (see :mod:`mmrrsis.apis.inputs`).
        texts (str | Sequence[str]): Expression(s), paired with the images
            as in :func:`~mmrrsis.apis.pair_inputs`.
        batch_size (int): Pairs per forward pass. Defaults to 1.
        scaling (dict, optional): Band selection and scaling of the images
            (``bands``, ``scale``, ``percentiles``, ``min_value``,
            ``max_value``, as ``LoadRSImageFromFile`` takes them), replacing
            the config's; needed for images that are not 8-bit RGB.
            Defaults to None (the config's ``LoadRSImageFromFile``
            settings).

    Returns:
        SegDataSample | list[SegDataSample]: With ``pred_sem_seg``
        (1, H, W) at each image's size and ``seg_logits``; a list unless a
        single image and a single expression (str) were given.
    """
    check_text_model(model)
    pairs = pair_inputs(img, texts)
    pipeline = InferencePipeline(
        model.cfg, keep_size=keeps_size(model), scaling=scaling)
    results = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = [pipeline(p) for p in pairs[start:start + batch_size]]
            results.extend(model.test_step(pseudo_collate(batch)))
    single = isinstance(img, (str, Path, np.ndarray)) and isinstance(
        texts, str)
    return results[0] if single else results
