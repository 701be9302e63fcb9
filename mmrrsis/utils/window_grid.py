"""The sliding-window grid: one definition for the segmentor's slide
inference, the window predictor of the inference API and scenes."""
from typing import List, Tuple


def window_spans(length: int, crop: int, stride: int) -> List[Tuple[int, int]]:
    """Start and end of the windows along one axis.

    The grid of mmseg's ``slide_inference``: a window every ``stride``
    pixels, the last one aligned to the far border, one window of the
    whole length when it is shorter than ``crop``.

    Args:
        length (int): Pixels along the axis.
        crop (int): Window size.
        stride (int): Step between window starts.

    Returns:
        list[tuple[int, int]]: ``(start, end)`` of each window.

    Raises:
        ValueError: A size that is not positive, or a stride larger than
            the window (pixels would be left out).
    """
    if min(length, crop, stride) <= 0:
        raise ValueError('length, crop and stride must be positive, got '
                         f'{length}, {crop}, {stride}')
    if stride > crop:
        raise ValueError(f'stride {stride} larger than the window {crop} '
                         'would leave pixels out')
    grids = max(length - crop + stride - 1, 0) // stride + 1
    spans = []
    for i in range(grids):
        end = min(i * stride + crop, length)
        spans.append((max(end - crop, 0), end))
    return spans


def window_grid(height: int, width: int, crop: Tuple[int, int],
                stride: Tuple[int, int]
                ) -> List[Tuple[int, int, int, int]]:
    """Every window of an image, row by row.

    Args:
        height (int): Image height.
        width (int): Image width.
        crop (tuple[int, int]): Window (h, w).
        stride (tuple[int, int]): Step (h, w).

    Returns:
        list[tuple[int, int, int, int]]: ``(y1, y2, x1, x2)`` of each
        window, rows first.
    """
    return [(y1, y2, x1, x2)
            for y1, y2 in window_spans(height, crop[0], stride[0])
            for x1, x2 in window_spans(width, crop[1], stride[1])]


__all__ = ['window_grid', 'window_spans']
