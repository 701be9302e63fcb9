"""Load the target mask of a referring expression."""
import warnings
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmrrsis.registry import TRANSFORMS

from ..masks import (
    POLYGON_OVERLAPS,
    binarize_mask,
    decode_rle,
    decode_segmentation,
    decode_targets,
    mask_problem,
    read_mask_file,
    resolve_threshold,
)

__all__ = [
    'LoadReferringAnnotations', 'binarize_mask', 'decode_rle',
    'decode_segmentation', 'describe_sample', 'read_mask_file'
]

#: What a mask that its dataset's rule would read wrongly does.
MASK_CHECKS = ('strict', 'lenient')
#: What an image whose size differs from its mask's does.
SIZE_MISMATCH_POLICIES = ('resample', 'error')
#: The loading rules a referring dataset puts into each sample and their
#: values when neither the transform nor the sample sets them.
RULE_DEFAULTS = dict(
    mask_threshold=0,
    mask_check='strict',
    polygon_overlap='union',
    size_mismatch='resample')


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


def check_choice(name: str, value, choices) -> None:
    """Raise a ValueError naming the setting when ``value`` is no choice."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')


@TRANSFORMS.register_module()
class LoadReferringAnnotations(BaseTransform):
    """Load the binary target mask of a referring expression.

    The mask comes from a mask file (``seg_map_path``, RefSegRS) or, when
    there is none, from the annotation's COCO segmentation
    (``segmentation`` with ``height`` and ``width``, refer datasets; an
    RLE is decoded at its own ``size``), or from several annotations
    united (``segmentations``, a list, gRefCOCO's multi-target and, when
    empty, no-target references).

    How a dataset's quirks are read is the dataset's setting: a referring
    dataset (:class:`~mmrrsis.datasets.BaseReferringDataset`) puts its
    rules into every sample (``mask_threshold``, ``mask_check``,
    ``polygon_overlap``, ``size_mismatch``), as mmseg's datasets pass
    ``reduce_zero_label`` to ``LoadAnnotations``. An argument given here
    overrides the sample's value; where neither says, the defaults are
    ``mask_threshold=0``, ``mask_check='strict'``,
    ``polygon_overlap='union'`` and ``size_mismatch='resample'``.

    Mask files: stored values above ``mask_threshold`` are target (1), the
    rest background (0); ``mask_threshold='auto'`` decides per file (0/1
    stored: 1 is target; 0/255: above 127.5; see
    :func:`~mmrrsis.datasets.masks.auto_threshold`). A mask this rule
    would read wrongly (see
    :func:`~mmrrsis.datasets.masks.mask_problem`: channels with different
    content, no 0 background, a 0/1 mask under a ``> 50`` rule, values
    spread over many levels; a thin anti-aliased soft edge is fine) raises
    a ``ValueError`` naming the file and the values found, with
    ``mask_check='strict'``. With ``'lenient'`` it is read anyway (the rule
    is applied, a 0/1 mask is read as 1 = target instead of becoming
    empty, several channels are united) and a warning counts such masks
    (at the 1st, 2nd, 4th, 8th, ... one).

    Image and mask size: when the image has been loaded before
    (``ori_shape`` is set by the image loader) and its size differs
    from the mask's (some RRSIS-D JPEGs are 800x801 with an 800x800 mask),
    ``size_mismatch='error'`` raises a ``ValueError`` naming both sizes;
    ``'resample'`` puts the image on the mask's grid, since the mask is the
    ground truth and the metric's resolution:

    - before ``Resize`` (training pipelines): the image is resized
      (bilinear) to the mask's size;
    - after ``Resize`` (evaluation at the original resolution): the image
      is at the network size already; ``ori_shape`` becomes the mask's
      size (and ``scale_factor`` follows), so the prediction is brought
      back to, and scored on, the mask's grid.

    A referring dataset counts such samples when it is built and warns
    once; for samples of other datasets the first mismatch warns here.

    Required Keys:

    - seg_map_path (str | None)
    - segmentation (list | dict) or segmentations (list), height (int),
      width (int): only when ``seg_map_path`` is None
    - ori_shape (tuple, optional), img (np.ndarray, optional)
    - mask_threshold, mask_check, polygon_overlap, size_mismatch
      (optional): the dataset's rules

    Modified Keys:

    - img, img_shape (resampled before ``Resize``), ori_shape,
      scale_factor (after ``Resize``): only when the sizes differ and
      the policy is ``'resample'``

    Added Keys:

    - gt_seg_map (np.uint8): (H, W), values in {0, 1}
    - seg_fields (list): ``'gt_seg_map'`` appended

    Args:
        mask_threshold (float | str, optional): Mask values strictly above
            it are target; ``'auto'`` decides per file. Defaults to None
            (the sample's, else 0).
        mask_check (str, optional): ``'strict'`` or ``'lenient'``, see
            above. Defaults to None (the sample's, else 'strict').
        soft_edge (int): Width in pixels of the soft edge within which
            values between background and target are accepted. Defaults
            to 2.
        polygon_overlap (str, optional): ``'union'`` or ``'refer'``, see
            :func:`~mmrrsis.datasets.masks.decode_segmentation`. Defaults
            to None (the sample's, else 'union').
        size_mismatch (str, optional): ``'resample'`` or ``'error'``.
            Defaults to None (the sample's, else 'resample').
        check_shape (bool): Compare the mask's size with the image's at
            all. Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
    """

    def __init__(self,
                 mask_threshold: Optional[float] = None,
                 mask_check: Optional[str] = None,
                 soft_edge: int = 2,
                 polygon_overlap: Optional[str] = None,
                 size_mismatch: Optional[str] = None,
                 check_shape: bool = True,
                 backend_args: Optional[dict] = None) -> None:
        if mask_check is not None:
            check_choice('mask_check', mask_check, MASK_CHECKS)
        if polygon_overlap is not None:
            check_choice('polygon_overlap', polygon_overlap,
                         POLYGON_OVERLAPS)
        if size_mismatch is not None:
            check_choice('size_mismatch', size_mismatch,
                         SIZE_MISMATCH_POLICIES)
        self.mask_threshold = mask_threshold
        self.mask_check = mask_check
        self.soft_edge = soft_edge
        self.polygon_overlap = polygon_overlap
        self.size_mismatch = size_mismatch
        self.check_shape = check_shape
        self.backend_args = backend_args.copy() if backend_args else None
        self._lenient_reads = 0
        self._warned_size = False

    def rule(self, results: dict, name: str):
        """The effective loading rule ``name`` for a sample: this
        transform's argument, else the sample's, else the default."""
        own = getattr(self, name)
        if own is not None:
            return own
        value = results.get(name)
        return RULE_DEFAULTS[name] if value is None else value

    def transform(self, results: dict) -> dict:
        """Load the mask into ``results['gt_seg_map']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``gt_seg_map`` (H, W) uint8 in {0, 1}.
        """
        context = describe_sample(results)
        gt, origin = self.load_mask(results, context)
        if self.check_shape and results.get('ori_shape') is not None:
            self._align_image(results, gt.shape, origin, context)
        results['gt_seg_map'] = gt
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def load_mask(self, results: dict, context: str) -> Tuple[np.ndarray,
                                                               str]:
        """The binary mask of a sample and a phrase saying where it is from.

        Args:
            results (dict): The sample.
            context (str): The sample's description, for messages.

        Returns:
            tuple[np.ndarray, str]: (H, W) uint8 mask in {0, 1}, and e.g.
            ``'mask <path>'`` or ``'annotation mask'``.
        """
        seg_map_path = results.get('seg_map_path')
        if seg_map_path is not None:
            raw = read_mask_file(seg_map_path, self.backend_args, context)
            return self._binarize(raw, results, seg_map_path), \
                f'mask {seg_map_path}'
        for key, decode in (('segmentation', decode_segmentation),
                            ('segmentations', decode_targets)):
            if results.get(key) is None:
                continue
            try:
                gt = decode(results[key], int(results['height']),
                            int(results['width']),
                            self.rule(results, 'polygon_overlap'))
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f'Cannot decode the {key} of {context}: '
                                 f'{e}') from e
            return gt, 'annotation mask'
        raise KeyError(f'{context} has neither a mask file '
                       "('seg_map_path') nor a segmentation "
                       "('segmentation')")

    def _binarize(self, raw: np.ndarray, results: dict,
                  path: str) -> np.ndarray:
        setting = self.rule(results, 'mask_threshold')
        threshold = resolve_threshold(setting, raw)
        problem = mask_problem(raw, threshold, self.soft_edge)
        if problem is None:
            return binarize_mask(raw, threshold)
        rule = f'rule: target = value > {threshold:g}' + (
            " (mask_threshold='auto' for this file)"
            if isinstance(setting, str) else '')
        if self.rule(results, 'mask_check') == 'strict':
            raise ValueError(
                f'Mask {path} would be read wrongly ({rule}): {problem}. '
                "Fix the file, set the dataset's mask_threshold, or read "
                "such masks anyway with mask_check='lenient'.")
        self._lenient_reads += 1
        count = self._lenient_reads
        if count & (count - 1) == 0:  # 1, 2, 4, 8, ...
            warnings.warn(
                f'{count} mask(s) read leniently so far ({rule}); the '
                f'latest, {path}: {problem}')
        flat = raw.max(axis=2) if raw.ndim == 3 else raw
        if 0 < flat.max() <= threshold:  # e.g. 0/1: never all background
            return (flat > 0).astype(np.uint8)
        return binarize_mask(flat, threshold)

    def _align_image(self, results: dict, mask_hw: Tuple[int, int],
                     origin: str, context: str) -> None:
        """Apply the size-mismatch policy when image and mask differ."""
        img_hw = tuple(results['ori_shape'][:2])
        mask_hw = tuple(int(v) for v in mask_hw)
        if img_hw == mask_hw:
            return
        if self.rule(results, 'size_mismatch') == 'error':
            raise ValueError(
                f'The {origin} has size {mask_hw} (h, w) but the image '
                f'{results.get("img_path")} has {img_hw}: image and mask '
                f'of {context} are not aligned '
                "(size_mismatch='error'; 'resample' puts the image on the "
                "mask's grid)")
        if results.get('size_mismatch') is None and not self._warned_size:
            self._warned_size = True
            warnings.warn(
                f'The image {results.get("img_path")} has size {img_hw} but '
                f'its {origin} {mask_hw}: the image is resampled to the '
                "mask's grid (size_mismatch='resample'); further mismatches "
                'are resampled without a warning')
        h, w = mask_hw
        if 'scale_factor' not in results and 'img' in results:
            results['img'] = mmcv.imresize(results['img'], (w, h))
            results['img_shape'] = (h, w)
        elif 'scale_factor' in results and 'img_shape' in results:
            img_h, img_w = results['img_shape'][:2]
            results['scale_factor'] = (img_w / w, img_h / h)
        results['ori_shape'] = (h, w)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}('
                f'mask_threshold={self.mask_threshold}, '
                f'mask_check={self.mask_check!r}, '
                f'soft_edge={self.soft_edge}, '
                f'polygon_overlap={self.polygon_overlap!r}, '
                f'size_mismatch={self.size_mismatch!r}, '
                f'check_shape={self.check_shape}, '
                f'backend_args={self.backend_args})')
