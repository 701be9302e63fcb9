"""The config's test pipeline, run on in-memory (image, text) pairs."""
import copy
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmrrsis.utils.config_utils import (
    drop_steps,
    find_steps,
    iter_pipelines,
    type_name,
)

from .inputs import SCALING_KEYS, ImageType, image_loader, load_image

#: Transforms of a test pipeline that read ground truth (dropped for
#: inference) or the image file (the image is loaded beforehand).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadReferringAnnotations')
IMAGE_LOADERS = ('LoadRSImageFromFile', 'LoadImageFromFile',
                 'InferencerLoader', 'LoadImageFromNDArray')
RESIZES = ('Resize', 'RandomResize')


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
        scaling (dict, optional): ``bands``, ``scale``, ``percentiles``,
            ``min_value``, ``max_value`` (``LoadRSImageFromFile``'s),
            replacing the config's as a whole; ``{}`` for none. Defaults to
            None (the config's).

    Attributes:
        loader (LoadRSImageFromFile): What reads the images.
    """

    def __init__(self,
                 cfg: Config,
                 keep_size: bool = False,
                 scaling: Optional[dict] = None) -> None:
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
        array = self.image(img)
        results = dict(
            img=array,
            img_path=str(img) if isinstance(img, (str, Path)) else None,
            ori_shape=array.shape[:2],
            img_shape=array.shape[:2],
            text=text,
            seg_fields=[],
            reduce_zero_label=False)
        out = self.transforms(results)
        if out is None:
            raise ValueError(f'The test pipeline dropped the sample {text!r}')
        return out
