"""Inputs of inference: pair images with expressions, read the images.

Every entry point (:func:`~mmrrsis.apis.inference_model`,
:class:`~mmrrsis.apis.RRSISInferencer`, the demo) goes through these, so a
missing or unreadable image, a folder given as an image, an empty
expression, a different number of images and expressions, or an image
that is not 8-bit RGB without a scaling fails the same clear way
everywhere.

One rule turns an input into the model's (H, W, 3) uint8 BGR image, with
:class:`~mmrrsis.datasets.transforms.LoadRSImageFromFile` and its
:class:`~mmrrsis.datasets.band_scaling.BandScaling` (no second
implementation):

- a **file** is read by ``LoadRSImageFromFile`` with the given band
  selection and scaling (8-bit RGB files load as mmcv's
  ``LoadImageFromFile`` loads them; anything else needs a scaling);
- an **array** without a scaling must be 8-bit: (H, W, 3) BGR, as
  ``cv2.imread`` gives, or (H, W) grey (copied to three channels); any
  other dtype (uint16, float, ...) or channel count raises a
  ``BandScalingError`` naming the dtype, the shape and the fix;
- an **array with a scaling** is read like a raster: (H, W, bands) (or
  (H, W), one band) in band order, ``bands`` 1-based, e.g. a uint16
  (H, W, 4) blue, green, red, NIR array with ``dict(bands=(3, 2, 1),
  scale='percentile')``. It is then *not* BGR.
"""
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from mmrrsis.datasets.band_scaling import (
    SCALING_KEYS,
    BandScaling,
    BandScalingError,
)
from mmrrsis.datasets.transforms import LoadRSImageFromFile

ImageType = Union[str, Path, np.ndarray]
#: What a ``scaling`` argument is: a BandScaling or its dict.
ScalingType = Union[BandScaling, dict, None]


def _check_image_path(img: Union[str, Path]) -> None:
    """Raise unless a local ``img`` is an existing file (URLs pass)."""
    path = str(img)
    if '://' in path:
        return
    if osp.isdir(path):
        raise IsADirectoryError(
            f'{path} is a directory, not an image file: pass the image '
            'files in it (e.g. sorted(glob.glob(os.path.join(folder, '
            '"*.tif")))).')
    if not osp.isfile(path):
        raise FileNotFoundError(f'Image file not found: {path}')


def pair_inputs(images: Union[ImageType, Sequence[ImageType]],
                texts: Union[str, Sequence[str], None]
                ) -> List[Tuple[ImageType, str]]:
    """Pair images with expressions.

    - one image and one or several expressions: the image with each;
    - N images and one expression (a str): each image with it;
    - N images and N expressions: element-wise.

    Args:
        images (str | Path | np.ndarray | Sequence): Image file(s) or
            array(s) (see the module's rule).
        texts (str | Sequence[str]): Expression(s).

    Returns:
        list[tuple]: (image, expression) pairs.

    Raises:
        ValueError: No expression, an empty one, or a different number of
            images and expressions.
        TypeError: An expression that is not a str.
        FileNotFoundError: An image file that does not exist.
        IsADirectoryError: A folder given as an image.
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
            _check_image_path(img)
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


def image_loader(scaling: ScalingType = None,
                 **loader_args) -> LoadRSImageFromFile:
    """The ``LoadRSImageFromFile`` that reads inference inputs.

    Args:
        scaling (BandScaling | dict, optional): Band selection and
            scaling (a :class:`BandScaling` or its dict, e.g.
            ``dict(bands=(3, 2, 1), scale='percentile')``). It replaces
            those of ``loader_args`` as a whole (missing keys take their
            defaults; ``{}`` means none). Defaults to None
            (``loader_args``' own).
        **loader_args: Other ``LoadRSImageFromFile`` arguments (those of
            the config's loading step).

    Returns:
        LoadRSImageFromFile: The loader.

    Raises:
        TypeError: ``scaling`` is neither.
        BandScalingError: Unknown keys or inconsistent settings.
    """
    scaling = BandScaling.from_value(scaling)
    if scaling is not None:
        loader_args = {
            k: v
            for k, v in loader_args.items() if k not in SCALING_KEYS
        }
        loader_args.update(scaling.to_dict())
    return LoadRSImageFromFile(**loader_args)


def _array_fix(array: np.ndarray) -> str:
    channels = 1 if array.ndim == 2 else array.shape[2]
    fixes = []
    if channels not in (1, 3):
        fixes.append('bands=(r, g, b) (1-based, e.g. (3, 2, 1) for blue, '
                     'green, red, NIR)')
    if array.dtype != np.uint8:
        fixes.append("scale='percentile' (2nd/98th percentiles to 0-255) "
                     "or scale='minmax' with min_value / max_value (e.g. 0 "
                     'and 1 for float 0-1 data, 0 and 4095 for 12-bit)')
    return ('Pass scaling=dict(' + ', '.join(fixes) + '); with a scaling '
            'the array is read as (H, W, bands) in band order, like a '
            'raster, not as BGR.')


def array_to_bgr(array: np.ndarray, scaling: BandScaling) -> np.ndarray:
    """Check or convert an image array to the model's uint8 BGR.

    Args:
        array (np.ndarray): (H, W, 3) uint8 BGR or (H, W) uint8 grey
            without a scaling; with one, (H, W, bands) or (H, W) in band
            order, any dtype.
        scaling (BandScaling): Band selection and scaling; no ``bands``
            and no ``scale`` means none. Percentiles are taken over the
            whole array (NaN left out).

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR.

    Raises:
        ValueError: Not an (H, W) or (H, W, C) array, or an empty one.
        BandScalingError: Not 8-bit BGR or grey and no scaling, or bands
            the array does not have.
    """
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError('An image array must be (H, W, 3) (BGR) or (H, W) '
                         f'(grey), got shape {array.shape}')
    if scaling.is_identity:
        if array.dtype == np.uint8 and array.ndim == 2:
            return np.ascontiguousarray(np.stack([array] * 3, axis=-1))
        if array.dtype == np.uint8 and array.shape[2] == 3:
            return np.ascontiguousarray(array)
        raise BandScalingError(
            f'The image array is {array.dtype.name} of shape {array.shape}, '
            'not 8-bit (H, W, 3) BGR or (H, W) grey, and no scaling is '
            'given, so it cannot be fed to the model as it is. ' +
            _array_fix(array))
    data = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    source = f'The image array ({array.dtype.name}, shape {array.shape})'
    rgb = scaling.to_rgb(scaling.select(data, source), None, source)
    return np.ascontiguousarray(rgb[..., ::-1])


def load_image(img: ImageType,
               loader: Optional[LoadRSImageFromFile] = None) -> np.ndarray:
    """Read an image file, or check / convert an array, as uint8 BGR.

    See the module's rule: files through ``loader``, arrays through its
    band selection and scaling (:func:`array_to_bgr`).

    Args:
        img (str | Path | np.ndarray): File path or array.
        loader (LoadRSImageFromFile, optional): From :func:`image_loader`,
            e.g. ``image_loader(dict(bands=(3, 2, 1),
            scale='percentile'))``. Defaults to None (no scaling).

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR image.

    Raises:
        FileNotFoundError: Missing file.
        IsADirectoryError: A folder given as an image.
        ValueError: A file that is not a readable image, or an array of the
            wrong shape.
        BandScalingError: (a ValueError) Not 8-bit RGB and no scaling.
    """
    loader = loader or image_loader()
    if isinstance(img, np.ndarray):
        return array_to_bgr(img, loader.scaling)
    path = str(img)
    _check_image_path(path)
    return loader(dict(img_path=path))['img']
