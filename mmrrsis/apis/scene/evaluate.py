"""Score scene masks against ground-truth masks on the same grid."""
from typing import Dict, Sequence

import numpy as np
import torch

from mmrrsis.datasets.raster_io import open_raster
from mmrrsis.evaluation import intersection_and_union, summarize

from .source import import_rasterio, quiet_georeferencing
from .write import NODATA


def evaluate_scene_masks(pred_paths: Sequence[str],
                         gt_paths: Sequence[str],
                         strip_rows: int = 1024) -> Dict[str, object]:
    """oIoU / mIoU of scene masks (one per expression), read in strips.

    Each expression is one sample, as in the tile-level metric
    (:func:`mmrrsis.evaluation.summarize`): I and U are counted over the
    ground truth's valid pixels (its nodata value, 255, is left out), oIoU
    = sum I / sum U over the expressions, mIoU the mean of their IoUs.

    Args:
        pred_paths (Sequence[str]): Predicted masks (1 = target).
        gt_paths (Sequence[str]): Ground-truth masks (0, 1, 255 nodata) of
            the same size, in the same order.
        strip_rows (int): Rows read at a time. Defaults to 1024.

    Returns:
        dict: ``oIoU``, ``mIoU``, ``Prec@X`` (fractions) and
        ``per_expression``: a list of ``(I, U, IoU)``.

    Raises:
        ValueError: Different numbers of files, or of pixels.
    """
    if len(pred_paths) != len(gt_paths):
        raise ValueError(f'{len(pred_paths)} predicted masks and '
                         f'{len(gt_paths)} ground-truth masks')
    rasterio = import_rasterio()
    from rasterio.windows import Window
    inters, unions = [], []
    for pred_path, gt_path in zip(pred_paths, gt_paths):
        inter = union = 0
        with quiet_georeferencing(), rasterio.open(pred_path) as pred, \
                open_raster(gt_path, what='ground-truth mask') as gt:
            if (pred.height, pred.width) != (gt.height, gt.width):
                raise ValueError(
                    f'{pred_path} is {pred.height}x{pred.width}, its ground '
                    f'truth {gt_path} {gt.height}x{gt.width}')
            for y0 in range(0, gt.height, strip_rows):
                window = Window(0, y0, gt.width,
                                min(strip_rows, gt.height - y0))
                p = torch.from_numpy(pred.read(1, window=window))
                g = torch.from_numpy(gt.read(1, window=window))
                i, u = intersection_and_union(p, g, ignore_index=NODATA)
                inter += i
                union += u
        inters.append(inter)
        unions.append(union)
    result = summarize(np.array(inters), np.array(unions))
    result['per_expression'] = [
        (i, u, i / u if u else 0.) for i, u in zip(inters, unions)
    ]
    return result
