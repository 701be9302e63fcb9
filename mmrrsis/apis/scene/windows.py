"""Blending weights of overlapping windows (the grid itself is
:func:`mmrrsis.utils.window_spans`)."""
import numpy as np

from mmrrsis.utils import window_spans  # noqa: F401 (re-exported)

#: Blending weights of overlapping windows.
BLEND_MODES = ('hann', 'triangular', 'uniform')


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
