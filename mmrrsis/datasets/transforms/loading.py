"""Load the target mask of a referring expression."""
import warnings
from typing import Optional, Union

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmrrsis.registry import TRANSFORMS


def describe_sample(results: dict) -> str:
    """A short description of a sample for error messages.

    Names the sample's ``ref_id``, its image and, when the dataset recorded
    it, the annotation line it comes from (``source``).
    """
    parts = []
    for key in ('ref_id', 'sent_id', 'img_path', 'source'):
        if results.get(key) is not None:
            parts.append(f'{key}={results[key]!r}')
    return 'sample (' + ', '.join(parts) + ')' if parts else 'sample'


def read_mask_file(path: str,
                   backend_args: Optional[dict] = None,
                   context: str = '') -> np.ndarray:
    """Read a mask image (TIFF, PNG, ...) as stored, without conversion.

    Args:
        path (str): The mask file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
        context (str): Appended to error messages, e.g. the sample.
            Defaults to ''.

    Returns:
        np.ndarray: (H, W) or (H, W, C) array of the file's dtype.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file cannot be decoded (corrupt, truncated or not
            an image).
    """
    suffix = f' ({context})' if context else ''
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f'Mask file not found: {path}{suffix}') from e
    mask = None
    if data:
        buf = np.frombuffer(data, np.uint8)
        try:
            mask = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            mask = None
    if mask is None or mask.size == 0:
        raise ValueError(f'Cannot decode mask file {path}: the file is '
                         f'corrupt, truncated or not an image{suffix}')
    return mask


def binarize_mask(mask: np.ndarray, threshold: float = 0) -> np.ndarray:
    """Map a stored mask to {0, 1}: 1 where the value exceeds ``threshold``.

    Args:
        mask (np.ndarray): (H, W) mask, or (H, W, C) where any channel above
            the threshold marks the target.
        threshold (float): Values strictly above it are target. Defaults to
            0, which reads both 0/1 and 0/255 storage.

    Returns:
        np.ndarray: (H, W) uint8 array with values in {0, 1}.
    """
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    return (mask > threshold).astype(np.uint8)


def decode_segmentation(segmentation: Union[list, dict], height: int,
                        width: int) -> np.ndarray:
    """Rasterise a COCO segmentation: polygons, RLE or uncompressed RLE.

    Every polygon of the annotation is rasterised and the results are
    united: a pixel covered by two overlapping polygons is target too
    (summing the polygon masks and keeping pixels equal to 1, as the
    reference REFER loader does, drops such overlaps).

    Args:
        segmentation (list | dict): ``[[x1, y1, x2, y2, ...], ...]``
            polygons, a dict ``{'size': [h, w], 'counts': str | bytes}``
            (compressed RLE) or ``{'size': [h, w], 'counts': [int, ...]}``
            (uncompressed RLE), or a list of RLE dicts.
        height (int): Image height.
        width (int): Image width.

    Returns:
        np.ndarray: (height, width) uint8 array with values in {0, 1}.
    """
    if isinstance(segmentation, dict):
        rles = [segmentation]
    elif isinstance(segmentation, (list, tuple)):
        if len(segmentation) == 0:
            return np.zeros((height, width), np.uint8)
        if all(isinstance(s, dict) for s in segmentation):
            rles = list(segmentation)
        else:
            polygons = [list(map(float, p)) for p in segmentation]
            bad = [p for p in polygons if len(p) < 6 or len(p) % 2]
            if bad:
                raise ValueError('A polygon needs an even number (>= 6) of '
                                 f'coordinates, got {len(bad[0])}')
            rles = mask_utils.frPyObjects(polygons, height, width)
    else:
        raise TypeError('segmentation must be polygons (list) or RLE '
                        f'(dict), got {type(segmentation).__name__}')
    converted = []
    for rle in rles:
        if isinstance(rle.get('counts'), list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(rle, *rle['size'])
        elif isinstance(rle.get('counts'), str):
            rle = dict(size=rle['size'], counts=rle['counts'].encode())
        if list(rle['size']) != [height, width]:
            raise ValueError(f'RLE size {list(rle["size"])} differs from '
                             f'the image size {[height, width]}')
        converted.append(rle)
    merged = mask_utils.merge(converted, intersect=False)
    return decode_rle(merged).astype(np.uint8)


def decode_rle(rle) -> np.ndarray:
    """``pycocotools.mask.decode`` without its numpy 2 deprecation noise.

    pycocotools (2.0.x) builds arrays with ``copy=False`` semantics that
    numpy 2 reports as a DeprecationWarning on every call; the result is
    correct, so the warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore', message='__array__ implementation',
            category=DeprecationWarning)
        return mask_utils.decode(rle)


@TRANSFORMS.register_module()
class LoadReferringAnnotations(BaseTransform):
    """Load the binary target mask of a referring expression.

    The mask comes from a mask file (``seg_map_path``, RefSegRS) or, when
    there is none, from the annotation's COCO segmentation
    (``segmentation`` with ``height`` and ``width``, refer datasets). Stored
    values above ``mask_threshold`` are target (1), the rest background (0).

    When the image has been loaded before (``ori_shape`` is set by
    ``LoadImageFromFile``), the mask must have the image's original size;
    otherwise a ``ValueError`` names both. Put this transform before
    ``Resize`` to resize the mask with the image (training), or after it
    to keep the ground truth at the original resolution (evaluation on the
    original masks).

    Required Keys:

    - seg_map_path (str | None)
    - segmentation (list | dict), height (int), width (int): only when
      ``seg_map_path`` is None
    - ori_shape (tuple, optional)

    Added Keys:

    - gt_seg_map (np.uint8): (H, W), values in {0, 1}
    - seg_fields (list): ``'gt_seg_map'`` appended

    Args:
        mask_threshold (float): Mask values strictly above it are target.
            Defaults to 0 (reads 0/1 and 0/255 masks alike; the reference
            RefSegRS loaders use 50 on 0/255 masks).
        check_shape (bool): Check that the mask has the image's original
            size. Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
    """

    def __init__(self,
                 mask_threshold: float = 0,
                 check_shape: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        self.mask_threshold = mask_threshold
        self.check_shape = check_shape
        self.backend_args = backend_args.copy() if backend_args else None

    def transform(self, results: dict) -> dict:
        """Load the mask into ``results['gt_seg_map']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``gt_seg_map`` (H, W) uint8 in {0, 1}.
        """
        context = describe_sample(results)
        seg_map_path = results.get('seg_map_path')
        if seg_map_path is not None:
            raw = read_mask_file(seg_map_path, self.backend_args, context)
            gt = binarize_mask(raw, self.mask_threshold)
            origin = f'mask {seg_map_path}'
        elif results.get('segmentation') is not None:
            try:
                gt = decode_segmentation(results['segmentation'],
                                         int(results['height']),
                                         int(results['width']))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f'Cannot decode the segmentation of '
                                 f'{context}: {e}') from e
            origin = 'annotation mask'
        else:
            raise KeyError(f'{context} has neither a mask file '
                           "('seg_map_path') nor a segmentation "
                           "('segmentation')")
        if self.check_shape and results.get('ori_shape') is not None:
            img_hw = tuple(results['ori_shape'][:2])
            if tuple(gt.shape) != img_hw:
                raise ValueError(
                    f'The {origin} has size {tuple(gt.shape)} (h, w) but the '
                    f'image {results.get("img_path")} has {img_hw}: image '
                    f'and mask of {context} are not aligned')
        results['gt_seg_map'] = gt
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'mask_threshold={self.mask_threshold}, '
                f'check_shape={self.check_shape}, '
                f'backend_args={self.backend_args})')
