"""Build a referring segmentor from a config and run it on images + text.

The helpers here are shared by :func:`init_model`, :func:`inference_model`,
:class:`~mmrrsis.apis.RRSISInferencer`, ``tools/test.py`` and the demo, so
every entry point fails the same clear way on bad input: a missing or
unreadable image, an empty expression, a different number of images and
expressions, a checkpoint of another model, a config without a text
encoder.
"""
import copy
import os.path as osp
import re
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.fileio import get as get_bytes
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.structures import SegDataSample

from mmrrsis.registry import MODELS

ImageType = Union[str, Path, np.ndarray]

#: Transforms of a test pipeline that read ground truth (dropped for
#: inference) or the image file (the image is loaded beforehand).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadReferringAnnotations')
IMAGE_LOADERS = ('LoadImageFromFile', 'InferencerLoader',
                 'LoadImageFromNDArray')


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model built from the config."""


def has_text_encoder(model: nn.Module) -> bool:
    """Whether ``model`` encodes expressions (has a text encoder).

    Args:
        model (nn.Module): A segmentor.

    Returns:
        bool: True if it has a ``text_encoder`` or a sub-module with
        ``with_text = True``.
    """
    if getattr(model, 'text_encoder', None) is not None:
        return True
    return any(
        getattr(m, 'with_text', False) is True for m in model.modules()
        if m is not model)


def check_text_model(model: nn.Module, config_name: str = 'the config'):
    """Raise if ``model`` cannot take referring expressions.

    Args:
        model (nn.Module): The built segmentor.
        config_name (str): How to name its config in the message.

    Raises:
        ValueError: The model has no text encoder.
    """
    if not has_text_encoder(model):
        raise ValueError(
            f'{config_name} builds a {type(model).__name__} without a text '
            'encoder, so it cannot take referring expressions. Use an '
            'mmrrsis config whose model has one (e.g. configs/lavt_swin-b.py:'
            " RRSISEncoderDecoder with text_encoder=dict(type="
            "'BertTextEncoder', ...)).")


def _state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError('the checkpoint holds no state_dict')
    return OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())


def _examples(keys: Sequence[str], num: int = 5) -> str:
    shown = ', '.join(sorted(keys)[:num])
    more = f', ... ({len(keys) - num} more)' if len(keys) > num else ''
    return shown + more


def load_checkpoint_checked(model: nn.Module,
                            filename: str,
                            map_location: str = 'cpu',
                            strict: bool = True) -> dict:
    """Load a checkpoint, refusing one that belongs to another model.

    Unlike mmengine's ``load_checkpoint`` (which by default only logs
    missing and unexpected keys), a checkpoint whose keys or shapes do not
    match the model raises :class:`CheckpointMismatchError` with a short
    summary, so weights of another architecture are not used silently.

    Args:
        model (nn.Module): The model to load into.
        filename (str): Local path or URL of the checkpoint.
        map_location (str): Defaults to 'cpu'.
        strict (bool): Raise on missing or unexpected keys (shape
            mismatches always raise). Defaults to True.

    Returns:
        dict: The loaded checkpoint (``meta`` etc.).

    Raises:
        FileNotFoundError: A local checkpoint that does not exist.
        CheckpointMismatchError: Keys or shapes do not match.
    """
    if '://' not in str(filename) and not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    checkpoint = _load_checkpoint(str(filename), map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'{filename} is not a model checkpoint (it holds a '
            f'{type(checkpoint).__name__})')
    state_dict = _state_dict_of(checkpoint)
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [
        f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}'
        for k, v in own.items()
        if k in state_dict and hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        lines = [
            f'The checkpoint {filename} does not match the model '
            f'{type(model).__name__} built from the config '
            f'({len(state_dict)} tensors in the checkpoint, {len(own)} in '
            'the model). Was it trained with another config?'
        ]
        if missing:
            lines.append(f'- {len(missing)} model weights missing from the '
                         f'checkpoint: {_examples(missing)}')
        if unexpected:
            lines.append(f'- {len(unexpected)} checkpoint weights unknown to '
                         f'the model: {_examples(unexpected)}')
        if shapes:
            lines.append(f'- {len(shapes)} shape mismatches (checkpoint vs '
                         f'model): {_examples(shapes, 3)}')
        raise CheckpointMismatchError('\n'.join(lines))
    model.load_state_dict(state_dict, strict=strict)
    return checkpoint


def _drop_pretrained(cfg) -> None:
    """Disable loading of pretrained backbone weights (``init_cfg``)."""
    if isinstance(cfg, dict):
        init_cfg = cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            cfg['init_cfg'] = None
        for value in cfg.values():
            _drop_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            _drop_pretrained(value)


def _load_config(config: Union[str, Path, Config],
                 cfg_options: Optional[dict] = None) -> Config:
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'Config file not found: {config}')
        config = Config.fromfile(str(config))
    elif isinstance(config, (Config, ConfigDict, dict)):
        config = copy.deepcopy(config)
        if not isinstance(config, Config):
            config = Config(dict(config))
    else:
        raise TypeError('config must be a file name or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if config.get('model') is None:
        raise ValueError('The config has no `model`.')
    return config


def init_model(config: Union[str, Path, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a referring segmentor from a config and load its weights.

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint to load; None leaves the
            weights random. Defaults to None.
        device (str, optional): 'cpu', 'cuda', 'cuda:1', ...; None picks
            CUDA when available. Defaults to None.
        cfg_options (dict, optional): Overrides merged into the config,
            e.g. ``{'model.text_encoder.bert_config': {}}``. Defaults to
            None.

    Returns:
        nn.Module: The segmentor in eval mode, with ``cfg`` (the config) and
        ``dataset_meta`` set.

    Raises:
        FileNotFoundError: Missing config or checkpoint file.
        ValueError: The model has no text encoder.
        CheckpointMismatchError: The checkpoint is of another model.
    """
    name = str(config) if isinstance(config, (str, Path)) else 'the config'
    cfg = _load_config(config, cfg_options)
    cfg.model.pop('pretrained', None)
    cfg.model['train_cfg'] = None
    if checkpoint is not None:
        _drop_pretrained(cfg.model)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    model = MODELS.build(cfg.model)
    check_text_model(model, name)
    meta = {}
    if checkpoint is not None:
        meta = load_checkpoint_checked(model, checkpoint).get('meta', {})
    model.cfg = cfg
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
    crop = _pair(crop_size, 'crop_size')
    step = _pair(stride, 'stride')
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


def _pair(value, name: str) -> Tuple[int, int]:
    if isinstance(value, int):
        value = (value, value)
    value = tuple(int(v) for v in value)
    if len(value) != 2 or min(value) <= 0:
        raise ValueError(f'{name} must be a positive int or (h, w), got '
                         f'{value}')
    return value


def pair_inputs(images: Union[ImageType, Sequence[ImageType]],
                texts: Union[str, Sequence[str], None]
                ) -> List[Tuple[ImageType, str]]:
    """Pair images with expressions.

    - one image and one or several expressions: the image with each;
    - N images and one expression (a str): each image with it;
    - N images and N expressions: element-wise.

    Args:
        images (str | Path | np.ndarray | Sequence): Image file(s) or BGR
            array(s) (H, W, 3) as ``cv2.imread`` gives.
        texts (str | Sequence[str]): Expression(s).

    Returns:
        list[tuple]: (image, expression) pairs.

    Raises:
        ValueError: No expression, an empty one, or a different number of
            images and expressions.
        TypeError: An expression that is not a str.
        FileNotFoundError: An image file that does not exist.
    """
    if texts is None:
        raise ValueError('Referring segmentation needs an expression for '
                         'every image: pass texts="..." (or a list).')
    single_image = isinstance(images, (str, Path, np.ndarray))
    image_list = [images] if single_image else list(images)
    text_list = [texts] if isinstance(texts, str) else list(texts)
    if not image_list:
        raise ValueError('No image given.')
    if not text_list:
        raise ValueError('No expression given.')
    for i, text in enumerate(text_list):
        if not isinstance(text, str):
            raise TypeError(f'Expression {i} is a {type(text).__name__}, '
                            'not a str.')
        if not text.strip():
            raise ValueError(f'Expression {i} is empty; describe the '
                             'target, e.g. "the red car on the left".')
    for img in image_list:
        if isinstance(img, (str, Path)):
            if '://' not in str(img) and not osp.isfile(str(img)):
                raise FileNotFoundError(f'Image file not found: {img}')
        elif not isinstance(img, np.ndarray):
            raise TypeError('An image must be a file path or a numpy array, '
                            f'got {type(img).__name__}')
    if len(image_list) == 1:
        return [(image_list[0], t) for t in text_list]
    if isinstance(texts, str):
        return [(img, texts) for img in image_list]
    if len(image_list) != len(text_list):
        raise ValueError(
            f'Got {len(image_list)} images and {len(text_list)} expressions; '
            'pass one image with any number of expressions, one expression '
            'for all images, or as many expressions as images.')
    return list(zip(image_list, text_list))


def load_image(img: ImageType,
               imdecode_backend: str = 'cv2') -> np.ndarray:
    """Read an image file (or check an array) as a BGR uint8 array.

    Args:
        img (str | Path | np.ndarray): File path or (H, W, 3) BGR array;
            an (H, W) array is taken as grey.
        imdecode_backend (str): mmcv decoding backend. Defaults to 'cv2'.

    Returns:
        np.ndarray: (H, W, 3) BGR image.

    Raises:
        FileNotFoundError: Missing file.
        ValueError: A file that is not a readable image, or an array of the
            wrong shape.
    """
    if isinstance(img, np.ndarray):
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        if img.ndim != 3 or img.shape[2] not in (3, 4) or img.size == 0:
            raise ValueError('An image array must be (H, W, 3) (BGR), got '
                             f'shape {img.shape}')
        return np.ascontiguousarray(img[..., :3])
    path = str(img)
    try:
        data = get_bytes(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'Image file not found: {path}') from None
    try:
        array = mmcv.imfrombytes(
            data, flag='color', backend=imdecode_backend)
    except Exception as e:
        raise ValueError(f'Cannot read the image {path}: {e}') from e
    if array is None or array.size == 0:
        raise ValueError(f'Cannot read the image {path}: not an image file '
                         'or a corrupt one.')
    return array


def _pipeline_cfg(cfg: Config) -> list:
    for loader in ('test_dataloader', 'val_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset')
        if dataset is not None and dataset.get('pipeline') is not None:
            return copy.deepcopy(list(dataset['pipeline']))
    if cfg.get('test_pipeline') is not None:
        return copy.deepcopy(list(cfg.test_pipeline))
    raise ValueError('The config has no test pipeline '
                     '(test_dataloader.dataset.pipeline or test_pipeline).')


class InferencePipeline:
    """The config's test pipeline for in-memory (image, text) samples.

    Annotation loading is dropped; the image is loaded by
    :func:`load_image` (which reports unreadable files clearly), with the
    decoding backend of the config's ``LoadImageFromFile``; with
    ``keep_size=True`` (sliding-window inference on large tiles) the
    ``Resize`` steps are dropped too.

    Args:
        cfg (Config): The model's config.
        keep_size (bool): Drop resizing. Defaults to False.
    """

    def __init__(self, cfg: Config, keep_size: bool = False) -> None:
        steps = _pipeline_cfg(cfg)
        self.imdecode_backend = 'cv2'
        kept = []
        for step in steps:
            kind = step.get('type', '')
            kind = kind.split('.')[-1] if isinstance(kind, str) else ''
            if kind in IMAGE_LOADERS:
                self.imdecode_backend = step.get('imdecode_backend', 'cv2')
            elif kind in ANNOTATION_LOADERS or kind.endswith('Annotations'):
                continue
            elif keep_size and kind in ('Resize', 'RandomResize'):
                continue
            else:
                kept.append(step)
        self.transforms = Compose(kept)
        self._cache: Tuple[Optional[str], Optional[np.ndarray]] = (None,
                                                                   None)

    def image(self, img: ImageType) -> np.ndarray:
        """Load ``img`` (the last file is cached: one image, many texts)."""
        if isinstance(img, np.ndarray):
            return load_image(img)
        if self._cache[0] != str(img):
            self._cache = (str(img), load_image(img, self.imdecode_backend))
        return self._cache[1]

    def __call__(self, pair: Tuple[ImageType, str]) -> dict:
        """Run the pipeline on an (image, text) pair.

        Returns:
            dict: ``inputs`` (3, H, W) and ``data_samples``.
        """
        img, text = pair[0], pair[1]
        array = self.image(img)
        results = dict(
            img=array,
            img_path=str(img) if not isinstance(img, np.ndarray) else None,
            ori_shape=array.shape[:2],
            img_shape=array.shape[:2],
            text=text,
            seg_fields=[],
            reduce_zero_label=False)
        out = self.transforms(results)
        if out is None:
            raise ValueError(f'The test pipeline dropped the sample {text!r}')
        return out


def inference_model(model: nn.Module,
                    img: Union[ImageType, Sequence[ImageType]],
                    texts: Union[str, Sequence[str]],
                    batch_size: int = 1
                    ) -> Union[SegDataSample, List[SegDataSample]]:
    """Predict the masks of expressions on images.

    Args:
        model (nn.Module): From :func:`init_model` (it needs ``model.cfg``).
        img (str | np.ndarray | Sequence): Image file(s) or BGR array(s).
        texts (str | Sequence[str]): Expression(s), paired with the images
            as in :func:`pair_inputs`.
        batch_size (int): Pairs per forward pass. Defaults to 1.

    Returns:
        SegDataSample | list[SegDataSample]: With ``pred_sem_seg``
        (1, H, W) at each image's size and ``seg_logits``; a list unless a
        single image and a single expression (str) were given.
    """
    check_text_model(model)
    pairs = pair_inputs(img, texts)
    pipeline = InferencePipeline(model.cfg, keep_size=keeps_size(model))
    results = []
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            batch = [pipeline(p) for p in pairs[start:start + batch_size]]
            results.extend(model.test_step(pseudo_collate(batch)))
    single = isinstance(img, (str, Path, np.ndarray)) and isinstance(
        texts, str)
    return results[0] if single else results
