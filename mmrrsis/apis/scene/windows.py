"""Window grid and blending weights of sliding-window scene inference."""
from typing import List, Tuple

import numpy as np

#: Blending weights of overlapping windows.
BLEND_MODES = ('hann', 'triangular', 'uniform')


def window_spans(length: int, crop: int, stride: int) -> List[Tuple[int, int]]:
    """Start and end of the windows along one axis.

    The same grid as mmseg's ``slide_inference``: a window every
    ``stride`` pixels, the last one aligned to the far border, one window
    of the whole length when it is shorter than ``crop``.

    Args:
        length (int): Pixels along the axis.
        crop (int): Window size.
        stride (int): Step between window starts.

    Returns:
        list[tuple[int, int]]: ``(start, end)`` of each window.
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


def blend_weights_1d(size: int, mode: str = 'hann',
                     floor: float = 0.05) -> np.ndarray:
    """Weights along one side of a window.

    - ``'hann'``: ``floor + (1 - floor) * sin(pi * (i + 0.5) / size) ** 2``
      (1 in the middle, ``floor`` at the borders);
    - ``'triangular'``: ``floor + (1 - floor) * (1 - |2 (i + 0.5) / size
      - 1|)``;
    - ``'uniform'``: 1 everywhere (plain averaging, as mmseg).

    The floor keeps every pixel's weight positive, so pixels at the
    scene's border, seen by one window only, still get that window's
    logits.

    Args:
        size (int): Window side in pixels.
        mode (str): One of :data:`BLEND_MODES`. Defaults to 'hann'.
        floor (float): Smallest weight, in (0, 1]. Defaults to 0.05.

    Returns:
        np.ndarray: (size, ) float32 weights in [floor, 1].
    """
    if mode not in BLEND_MODES:
        raise ValueError(f'blend must be one of {BLEND_MODES}, got {mode!r}')
    if not 0 < floor <= 1:
        raise ValueError(f'blend floor must be in (0, 1], got {floor}')
    t = (np.arange(size, dtype=np.float64) + 0.5) / size
    if mode == 'uniform':
        w = np.ones(size)
    elif mode == 'hann':
        w = floor + (1 - floor) * np.sin(np.pi * t)**2
    else:
        w = floor + (1 - floor) * (1 - np.abs(2 * t - 1))
    return w.astype(np.float32)


def blend_weights(height: int, width: int, mode: str = 'hann',
                  floor: float = 0.05) -> np.ndarray:
    """Separable 2-D weights of a window.

    Args:
        height (int): Window height.
        width (int): Window width.
        mode (str): See :func:`blend_weights_1d`. Defaults to 'hann'.
        floor (float): Defaults to 0.05.

    Returns:
        np.ndarray: (height, width) float32 weights (products of the 1-D
        weights; the smallest, ``floor ** 2``, in the corners).
    """
    return np.outer(
        blend_weights_1d(height, mode, floor),
        blend_weights_1d(width, mode, floor)).astype(np.float32)
