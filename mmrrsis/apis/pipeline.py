"""The config's test pipeline, run on in-memory (image, text) pairs."""
import copy
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import Compose
from mmengine.config import Config

from mmrrsis.utils.config_utils import (
    drop_steps,
    find_steps,
    iter_pipelines,
    type_name,
)

from .inputs import ImageType, load_image

#: Transforms of a test pipeline that read ground truth (dropped for
#: inference) or the image file (the image is loaded beforehand).
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadReferringAnnotations')
IMAGE_LOADERS = ('LoadImageFromFile', 'InferencerLoader',
                 'LoadImageFromNDArray')
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


class InferencePipeline:
    """The config's test pipeline for in-memory (image, text) samples.

    Annotation loading is dropped; the image is loaded by
    :func:`~mmrrsis.apis.load_image` (which reports unreadable files
    clearly), with the decoding backend of the config's
    ``LoadImageFromFile``; with ``keep_size=True`` (sliding-window inference
    on large tiles) the ``Resize`` steps are dropped too.

    Args:
        cfg (Config): The model's config.
        keep_size (bool): Drop resizing. Defaults to False.
    """

    def __init__(self, cfg: Config, keep_size: bool = False) -> None:
        steps = get_test_pipeline_cfg(cfg)
        loaders = find_steps(steps, IMAGE_LOADERS)
        self.imdecode_backend = steps[loaders[0]].get(
            'imdecode_backend', 'cv2') if loaders else 'cv2'
        dropped = set(IMAGE_LOADERS) | set(ANNOTATION_LOADERS) | {
            type_name(s)
            for s in steps if type_name(s).endswith('Annotations')
        }
        if keep_size:
            dropped |= set(RESIZES)
        self.transforms = Compose(drop_steps(steps, dropped))
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
