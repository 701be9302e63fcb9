"""The blend stage of a scene: overlapping windows' logits, weighted,
summed into a buffer of rows, handed on as soon as no later window touches
them (the window grid itself is :func:`mmrrsis.utils.window_grid`)."""
from typing import Callable

import numpy as np

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


class RowBuffer:
    """Weighted logit sums of a band of rows of the model grid.

    Holds rows ``[top, top + cap)``: ``acc`` (E, K, cap, W) weighted
    logits and ``wsum`` (cap, W) weights. Windows are added as they are
    predicted; :meth:`flush` hands finished rows on and moves the rest up,
    so memory does not grow with the scene's height.

    Args:
        num (int): E, the expressions.
        classes (int): K, the logits' channels.
        cap (int): Rows held (a window's height plus a block row).
        width (int): W, the model grid's width.
        top (int): The first row held.
        bottom (int): Rows at and below it are not this buffer's (another
            process's part of the scene); windows reaching them are cut.
    """

    def __init__(self, num: int, classes: int, cap: int, width: int,
                 top: int, bottom: int) -> None:
        self.acc = np.zeros((num, classes, cap, width), np.float32)
        self.wsum = np.zeros((cap, width), np.float32)
        self.top, self.bottom = top, bottom

    def add(self, logits: np.ndarray, weights: np.ndarray, y1: int, y2: int,
            x1: int, x2: int) -> None:
        """Add a window's weighted logits.

        Args:
            logits (np.ndarray): (E, K, h, w) of the window [y1, y2) x
                [x1, x2).
            weights (np.ndarray): (h, w) blending weights.
            y1, y2, x1, x2 (int): The window on the model grid.
        """
        a, b = max(y1, self.top), min(y2, self.bottom)
        w = weights[a - y1:b - y1]
        self.acc[:, :, a - self.top:b - self.top, x1:x2] += (
            logits[:, :, a - y1:b - y1] * w)
        self.wsum[a - self.top:b - self.top, x1:x2] += w

    def flush(self, final: int,
              sink: Callable[[int, np.ndarray, np.ndarray], None]) -> None:
        """Hand rows ``[top, final)`` to ``sink(top, acc, wsum)`` (views,
        valid during the call) and move the rest up.

        Args:
            final (int): The first row some later window still touches.
            sink (callable): ``sink(y0, acc (E, K, k, W), wsum (k, W))``.
        """
        k = final - self.top
        if k <= 0:
            return
        sink(self.top, self.acc[:, :, :k], self.wsum[:k])
        _shift_rows(self.acc, k, axis=2)
        _shift_rows(self.wsum, k, axis=0)
        self.top = final


def mean_logits(acc: np.ndarray, wsum: np.ndarray) -> np.ndarray:
    """Blended logits: weighted sums over weights (rows no window ran on,
    ``wsum == 0``, stay 0).

    Args:
        acc (np.ndarray): (E, K, k, W).
        wsum (np.ndarray): (k, W).

    Returns:
        np.ndarray: (E, K, k, W) float32.
    """
    return acc / np.where(wsum > 0, wsum, 1.)


def _shift_rows(array: np.ndarray, k: int, axis: int) -> None:
    """Move rows ``k:`` of ``array`` to the front along ``axis`` and zero
    the rest, in place, in pieces of at most ``k`` rows (no piece overlaps
    its source, so numpy needs no temporary copy of the buffer)."""
    n = array.shape[axis]
    view = np.moveaxis(array, axis, 0)
    for i in range(0, n - k, k):
        j = min(i + k, n - k)
        view[i:j] = view[i + k:j + k]
    view[max(n - k, 0):] = 0
