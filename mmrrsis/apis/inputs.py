"""Inputs of inference: pair images with expressions, read the images.

Every entry point (:func:`~mmrrsis.apis.inference_model`,
:class:`~mmrrsis.apis.RRSISInferencer`, the demo) goes through these, so a
missing or unreadable image, a folder given as an image, an empty
expression or a different number of images and expressions fails the same
clear way everywhere.
"""
import os.path as osp
from pathlib import Path
from typing import List, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmengine.fileio import get as get_bytes

ImageType = Union[str, Path, np.ndarray]


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
        IsADirectoryError: A folder given as an image.
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
    _check_image_path(path)
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
