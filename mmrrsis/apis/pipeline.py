"""The config's test pipeline, run on in-memory (image, text) pairs, on
an image alone, or on an expression alone."""
import copy
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrrsis.datasets.band_scaling import SCALING_KEYS, BandScaling
from mmrrsis.datasets.transforms import TextTransform
from mmrrsis.utils.config_utils import (
    ANNOTATION_LOADERS,
    RESIZES,
    drop_steps,
    find_steps,
    iter_pipelines,
    type_name,
)

from .inputs import ImageType, ScalingType, image_loader, load_image

#: Transforms of a test pipeline that read the image file (the image is
#: loaded beforehand).
IMAGE_LOADERS = ('LoadRSImageFromFile', 'LoadImageFromFile',
                 'InferencerLoader', 'LoadImageFromNDArray')


def get_test_pipeline_cfg(cfg: Config) -> list:
    """A copy of the config's test pipeline.

    The pipeline of ``test_dataloader``'s dataset (through dataset
    wrappers), else ``val_dataloader``'s, else ``cfg.test_pipeline``.

    Raises:
        ValueError: The config has none.
    """
    for _, ds in iter_pipelines(cfg, ('test_dataloader', 'val_dataloader')):
        return copy.deepcopy(list(ds['pipeline']))
    if cfg.get('test_pipeline') is not None:
        return copy.deepcopy(list(cfg.test_pipeline))
    raise ValueError('The config has no test pipeline '
                     '(test_dataloader.dataset.pipeline or test_pipeline).')


def loader_args_of(steps: list) -> dict:
    """What inference takes from a pipeline's image loading step.

    Its decoding backend and, for ``LoadRSImageFromFile``, its band
    selection and scaling (a config that still uses mmcv's
    ``LoadImageFromFile`` has none). File backends and ``to_float32`` stay
    behind: inference reads the user's files as uint8.

    Args:
        steps (list[dict]): A pipeline config.

    Returns:
        dict: ``LoadRSImageFromFile`` arguments.
    """
    found = find_steps(steps, IMAGE_LOADERS)
    if not found:
        return {}
    step = steps[found[0]]
    keys = ('imdecode_backend', )
    if type_name(step) == 'LoadRSImageFromFile':
        keys += SCALING_KEYS
    return {k: step[k] for k in keys if k in step}


def config_scaling(cfg: Config) -> BandScaling:
    """The band selection and scaling of the config's test pipeline
    (its ``LoadRSImageFromFile`` settings; none for other loaders)."""
    return image_loader(None,
                        **loader_args_of(get_test_pipeline_cfg(cfg))).scaling


def resize_scale(cfg: Config) -> Optional[Tuple[int, int]]:
    """The (h, w) the test pipeline's first ``Resize`` resizes to, or None
    (no ``Resize``, or one by ratio)."""
    steps = get_test_pipeline_cfg(cfg)
    found = find_steps(steps, RESIZES)
    scale = steps[found[0]].get('scale') if found else None
    if scale is None:
        return None
    if isinstance(scale, (int, float)):
        return int(scale), int(scale)
    w, h = scale  # mmcv's Resize takes (w, h)
    return int(h), int(w)


class InferencePipeline:
    """The config's test pipeline for in-memory (image, text) samples.

    Annotation loading is dropped; the image is read beforehand by
    :func:`~mmrrsis.apis.load_image` (which reports unreadable files
    clearly) with a ``LoadRSImageFromFile`` of the config's settings: its
    decoding backend and band selection / scaling, which ``scaling``
    replaces (see :mod:`mmrrsis.apis.inputs` for how files and arrays are
    read). With ``keep_size=True`` (sliding-window inference on large
    tiles) the ``Resize`` steps are dropped too.

    Args:
        cfg (Config): The model's config.
        keep_size (bool): Drop resizing. Defaults to False.
        scaling (BandScaling | dict, optional): Band selection and
            scaling (a ``BandScaling`` or its dict), replacing the
            config's as a whole; ``{}`` for none. Defaults to None (the
            config's).

    Attributes:
        loader (LoadRSImageFromFile): What reads the images.
    """

    def __init__(self,
                 cfg: Config,
                 keep_size: bool = False,
                 scaling: ScalingType = None) -> None:
        steps = get_test_pipeline_cfg(cfg)
        self.loader = image_loader(scaling, **loader_args_of(steps))
        dropped = set(IMAGE_LOADERS) | set(ANNOTATION_LOADERS) | {
            type_name(s)
            for s in steps if type_name(s).endswith('Annotations')
        }
        if keep_size:
            dropped |= set(RESIZES)
        # built in the config's scope, also before a model set it
        with DefaultScope.overwrite_default_scope(
                cfg.get('default_scope', 'mmrrsis')):
            self.transforms = Compose(drop_steps(steps, dropped))
        steps = self.transforms.transforms
        self._text_steps = Compose(
            [t for t in steps if isinstance(t, TextTransform)])
        self._image_steps = Compose(
            [t for t in steps if not isinstance(t, TextTransform)])
        self._cache: Tuple[Optional[str], Optional[np.ndarray]] = (None,
                                                                   None)

    def image(self, img: ImageType) -> np.ndarray:
        """Load ``img`` as (H, W, 3) uint8 BGR (the last file is cached:
        one image, many texts)."""
        if isinstance(img, np.ndarray):
            return load_image(img, self.loader)
        if self._cache[0] != str(img):
            self._cache = (str(img), load_image(img, self.loader))
        return self._cache[1]

    def __call__(self, pair: Tuple[ImageType, str]) -> dict:
        """Run the pipeline on an (image, text) pair.

        Returns:
            dict: ``inputs`` (3, H, W) and ``data_samples``.
        """
        img, text = pair[0], pair[1]
        return self._run(self.transforms, img, text=text)

    def pack_image(self, img: ImageType) -> dict:
        """Run the image steps alone (no expression; the text steps are
        left out).

        Args:
            img (str | np.ndarray): An image (read as :meth:`image`
                reads it), e.g. a window of a scene as (H, W, 3) BGR.

        Returns:
            dict: ``inputs`` (3, H, W) and ``data_samples`` (no text).
        """
        return self._run(self._image_steps, img, image_only=True)

    def clean_text(self, text: str) -> str:
        """The expression as the pipeline hands it to the model (its text
        steps only, e.g. ``CleanText``; no image involved).

        Args:
            text (str): An expression.

        Returns:
            str: The cleaned expression.
        """
        return self.text_record(text)['text']

    def text_record(self, text: str) -> dict:
        """Everything the pipeline's text steps make of an expression: the
        cleaned ``text`` and what else they add for the text encoder's
        ``meta_keys`` (e.g. FIANet's ``phrase_tokens``).

        Args:
            text (str): An expression.

        Returns:
            dict: The text steps' output (``text`` and added keys).
        """
        out = self._text_steps(dict(text=text))
        if out is None:
            raise ValueError(
                f'The test pipeline dropped the expression {text!r}')
        return out

    def _run(self, steps: Compose, img: ImageType, **fields) -> dict:
        array = self.image(img)
        results = dict(
            img=array,
            img_path=str(img) if isinstance(img, (str, Path)) else None,
            ori_shape=array.shape[:2],
            img_shape=array.shape[:2],
            seg_fields=[],
            reduce_zero_label=False,
            **fields)
        out = steps(results)
        if out is None:
            raise ValueError('The test pipeline dropped the sample '
                             f'{fields.get("text", "")!r}')
        return out
