"""Referring masks as stored: mask files and COCO segmentations.

- :func:`read_mask_file` reads a mask image as stored;
- :func:`mask_problem` says why a binarisation rule (``value >
  threshold``) would read a stored mask wrongly, naming the values found;
- :func:`binarize_mask` applies the rule;
- :func:`soft_edge_pixels` counts the pixels of a mask's soft edge (values
  between background and target) and how the rule reads them;
- :func:`decode_segmentation` rasterises a COCO segmentation (polygons,
  RLE, a list of RLEs), uniting overlapping parts or, as the refer API
  does, dropping them.

What counts as a well-formed stored mask (the rule :func:`mask_problem`
checks): one channel (or several identical ones, a constant alpha channel
is ignored); background stored as 0; the target stored as one value above
the threshold; values between the two only on a thin soft edge, i.e.
within ``soft_edge`` pixels of both a background and a target pixel (the
anti-aliased outline of a resampled 0/255 mask). Everything else (channels
with different content, a background that is not 0, a 0/1 mask under a
``> 50`` rule, values spread over many levels) is a problem.
"""
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from mmengine import fileio

#: How overlapping parts of one annotation are combined.
POLYGON_OVERLAPS = ('union', 'refer')


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
        IsADirectoryError: The path is a directory.
        ValueError: The file cannot be decoded (empty, corrupt, truncated
            or not an image).
    """
    suffix = f' ({context})' if context else ''
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f'Mask file not found: {path}{suffix}') from e
    except IsADirectoryError as e:
        raise IsADirectoryError(
            f'Mask path is a directory, not a file: {path}{suffix}') from e
    mask = None
    if data:
        buf = np.frombuffer(data, np.uint8)
        try:
            mask = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            mask = None
    if mask is None or mask.size == 0:
        state = 'empty (0 bytes)' if not data else \
            'corrupt, truncated or not an image'
        raise ValueError(f'Cannot decode mask file {path}: the file is '
                         f'{state}{suffix}')
    return mask


def _distinct(mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Distinct values of a mask and their pixel counts."""
    if mask.dtype in (np.uint8, np.uint16):
        counts = np.bincount(mask.ravel())
        values = np.flatnonzero(counts)
        return values.astype(mask.dtype), counts[values]
    return np.unique(mask, return_counts=True)


def describe_values(mask: np.ndarray, limit: int = 6) -> str:
    """The distinct values of a mask with pixel counts, e.g.
    ``'0 (3900 px), 128 (40 px), 255 (156 px)'``."""
    values, counts = _distinct(mask)
    order = np.argsort(-counts, kind='stable')[:limit]
    parts = [f'{values[i].item():g} ({counts[i]} px)' for i in sorted(order)]
    more = len(values) - len(parts)
    return ', '.join(parts) + (f' and {more} more values' if more else '')


def _single_channel(mask: np.ndarray) -> Tuple[np.ndarray, Optional[str]]:
    """One channel of ``mask``, or the reason there is none to take."""
    if mask.ndim == 2:
        return mask, None
    if mask.ndim != 3:
        return mask, f'{mask.ndim} dimensions'
    channels = mask.shape[2]
    if channels in (2, 4):  # gray/colour + alpha: a constant alpha is no data
        alpha = mask[..., -1]
        if alpha.min() == alpha.max():
            mask = mask[..., :-1]
    first = mask[..., 0]
    if all(np.array_equal(first, mask[..., c])
           for c in range(1, mask.shape[2])):
        return first, None
    maxima = [mask[..., c].max().item() for c in range(mask.shape[2])]
    return mask, (f'{channels} channels with different content (channel '
                  f'maxima {maxima}); a referring mask has one channel')


def mask_problem(mask: np.ndarray,
                 threshold: float = 0,
                 soft_edge: int = 2) -> Optional[str]:
    """Why the rule ``value > threshold`` would read ``mask`` wrongly.

    See the module docstring for what a well-formed stored mask is.

    Args:
        mask (np.ndarray): (H, W) or (H, W, C) stored mask.
        threshold (float): Values strictly above it are target. Defaults
            to 0.
        soft_edge (int): Values between background and target are accepted
            within this many pixels of both. Defaults to 2.

    Returns:
        str | None: The problem, naming the values found, or None when the
        rule reads the mask as it is meant.
    """
    mask, problem = _single_channel(mask)
    if problem is not None:
        return problem
    values, _ = _distinct(mask)
    low, high = values[0].item(), values[-1].item()
    found = f'values found: {describe_values(mask)}'
    if values.size == 1 and (low == 0 or low > threshold):
        return None  # all background or all target
    if high <= threshold:
        kind = 'a 0/1 mask' if high == 1 else f'its target value {high:g}'
        return (f'{kind} under the rule value > {threshold:g} would be read '
                f'as all background ({found})')
    if low != 0:
        return (f'no background value 0 (the lowest value is {low:g}; '
                f'{found})')
    between = (mask > 0) & (mask < high)
    if not between.any():
        return None
    size = 2 * max(int(soft_edge), 0) + 1
    kernel = np.ones((size, size), np.uint8)
    near_bg = cv2.dilate((mask == 0).astype(np.uint8), kernel) > 0
    near_fg = cv2.dilate((mask == high).astype(np.uint8), kernel) > 0
    off_edge = between & ~(near_bg & near_fg)
    if not off_edge.any():
        return None
    return (f'{int(off_edge.sum())} pixels hold values between 0 and '
            f'{high:g} farther than {soft_edge} px from the target\'s '
            f'edge: values spread over many levels, not a two-level mask '
            f'with a soft edge ({found})')


def soft_edge_pixels(mask: np.ndarray,
                     threshold: float = 0) -> Tuple[int, int]:
    """The soft edge of a stored mask and how ``value > threshold`` reads
    it.

    A soft edge is what resampling a 0/255 mask leaves: pixels with values
    strictly between 0 and the mask's target value. The rule reads those
    above ``threshold`` as target (RefSegRS' ``> 50`` takes a ring of 128
    around the target as target).

    Args:
        mask (np.ndarray): (H, W) or (H, W, C) stored mask.
        threshold (float): Values strictly above it are target. Defaults
            to 0.

    Returns:
        tuple[int, int]: Soft-edge pixels, and how many of them are read
        as target. (0, 0) for a two-level mask, and for one whose channels
        differ (:func:`mask_problem` reports those).
    """
    mask, problem = _single_channel(mask)
    if problem is not None or mask.size == 0:
        return 0, 0
    high = mask.max()
    between = (mask > 0) & (mask < high)
    count = int(between.sum())
    if not count:
        return 0, 0
    return count, int((between & (mask > threshold)).sum())


def describe_soft_edges(soft: int, masks: int, pixels: int, as_target: int,
                        threshold: float,
                        examples: Sequence[str] = ()) -> str:
    """The soft edges found in a set of masks, in one sentence.

    Args:
        soft (int): Masks with a soft edge.
        masks (int): Masks looked at.
        pixels (int): Their soft-edge pixels.
        as_target (int): Of those, the pixels the rule reads as target.
        threshold (float): The rule's threshold.
        examples (Sequence[str]): A few of the files. Defaults to ().

    Returns:
        str: E.g. '8 of 19 masks have a soft edge ...'.
    """
    example = f', e.g. {", ".join(examples)}' if examples else ''
    return (f'{soft} of {masks} masks have a soft edge (values between '
            f'background 0 and the target value{example}): {pixels:,} '
            f'pixels, of which {as_target:,} are read as target and '
            f'{pixels - as_target:,} as background under the rule value > '
            f'{threshold:g} (mask_threshold; RefSegRS\' authors read their '
            'masks with > 50).')


def binarize_mask(mask: np.ndarray, threshold: float = 0) -> np.ndarray:
    """Map a stored mask to {0, 1}: 1 where the value exceeds ``threshold``.

    No check is made here; see :func:`mask_problem`.

    Args:
        mask (np.ndarray): (H, W) mask, or (H, W, C) where any channel above
            the threshold marks the target.
        threshold (float): Values strictly above it are target. Defaults to
            0.

    Returns:
        np.ndarray: (H, W) uint8 array with values in {0, 1}.
    """
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    return (mask > threshold).astype(np.uint8)


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


def _parts(segmentation: Union[list, dict], height: int,
           width: int) -> List[dict]:
    """The compressed RLEs (bytes counts) of every part of a segmentation."""
    if isinstance(segmentation, dict):
        rles = [segmentation]
    elif isinstance(segmentation, (list, tuple)):
        if all(isinstance(s, dict) for s in segmentation):
            rles = list(segmentation)
        else:
            polygons = [list(map(float, p)) for p in segmentation]
            bad = [p for p in polygons if len(p) < 6 or len(p) % 2]
            if bad:
                raise ValueError('A polygon needs an even number (>= 6) of '
                                 f'coordinates, got {len(bad[0])}')
            return mask_utils.frPyObjects(polygons, height, width)
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
    return converted


def decode_segmentation(segmentation: Union[list, dict],
                        height: int,
                        width: int,
                        overlap: str = 'union') -> np.ndarray:
    """Rasterise a COCO segmentation: polygons, RLE or uncompressed RLE.

    An annotation may have several parts (polygons, or RLEs in a list).
    ``overlap`` says what a pixel covered by two parts is:

    - ``'union'``: target (the parts are united);
    - ``'refer'``: background, as the refer API's ``getMask`` (and so the
      LAVT and RMSIN loaders) computes it: the part masks are summed and
      only pixels equal to 1 are kept.

    The published LAVT / RMSIN numbers used ``'refer'``. It changes only
    annotations whose parts overlap: some RefCOCO polygons; never an
    RRSIS-D annotation (one RLE each).

    Args:
        segmentation (list | dict): ``[[x1, y1, x2, y2, ...], ...]``
            polygons, a list of RLE dicts (RRSIS-D: one
            ``{'size': [h, w], 'counts': str}``), a bare RLE dict, with
            ``counts`` a str or bytes (compressed) or a list of run lengths
            (uncompressed).
        height (int): Image height.
        width (int): Image width.
        overlap (str): ``'union'`` or ``'refer'``. Defaults to 'union'.

    Returns:
        np.ndarray: (height, width) uint8 array with values in {0, 1}.
    """
    if overlap not in POLYGON_OVERLAPS:
        raise ValueError(f'overlap must be one of {POLYGON_OVERLAPS}, got '
                         f'{overlap!r}')
    if isinstance(segmentation, (list, tuple)) and not segmentation:
        return np.zeros((height, width), np.uint8)
    parts = _parts(segmentation, height, width)
    if overlap == 'union' or len(parts) == 1:
        merged = mask_utils.merge(parts, intersect=False)
        return decode_rle(merged).astype(np.uint8)
    return (decode_rle(parts).sum(axis=2) == 1).astype(np.uint8)

