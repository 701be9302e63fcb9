"""The predict stage of a scene: the windows of a band of rows of the
model grid, read and run through the :class:`~mmrrsis.apis.WindowPredictor`
one by one, blended into a :class:`~.blend.RowBuffer` whose finished rows
go on to the write stage.

A scene can be split by rows across processes (:func:`split_rows`): each
process runs the windows that touch its rows (the windows on a border
between two parts run in both) and keeps only its rows, summed in the
same order as a single process sums them, so the parts join into the
single process's result exactly.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch
from mmengine.utils import ProgressBar

from mmrrsis.utils import window_spans

from ..inference import as_pair
from ..pipeline import resize_scale
from .blend import RowBuffer, blend_weights
from .write import BLOCK

ProgressFn = Callable[[int, int], None]


def training_size(model: torch.nn.Module) -> Tuple[int, int]:
    """The (h, w) a model was trained at: its slide ``crop_size``, else the
    ``Resize`` scale of its config's test pipeline.

    Raises:
        ValueError: Neither is there.
    """
    test_cfg = getattr(model, 'test_cfg', None) or {}
    if test_cfg.get('mode') == 'slide' and test_cfg.get('crop_size'):
        return as_pair(test_cfg['crop_size'], 'crop_size')
    size = resize_scale(model.cfg)
    if size is None:
        raise ValueError('Cannot tell the training size of the model (no '
                         'slide crop_size, no Resize in the test pipeline); '
                         'pass crop_size.')
    return size


@dataclass
class WindowPlan:
    """The windows of a scene's model grid.

    Attributes:
        crop (tuple[int, int]): Window (h, w).
        stride (tuple[int, int]): Step (h, w).
        blend (str): Blending mode (:data:`~.blend.BLEND_MODES`).
        blend_floor (float): Smallest 1-D blending weight.
    """
    crop: Tuple[int, int]
    stride: Tuple[int, int]
    blend: str = 'hann'
    blend_floor: float = 0.05

    def rows(self, height: int) -> List[Tuple[int, int]]:
        """The window rows of a grid ``height`` pixels high."""
        return window_spans(height, self.crop[0], self.stride[0])

    def cols(self, width: int) -> List[Tuple[int, int]]:
        """The window columns of a grid ``width`` pixels wide."""
        return window_spans(width, self.crop[1], self.stride[1])


def split_rows(height: int, parts: int,
               block: int = BLOCK) -> List[Tuple[int, int]]:
    """Rows [y0, y1) of each of ``parts`` processes: contiguous, starting
    on block rows (so each output block is written by one process), as
    equal as blocks allow; a process may get none (``y0 == y1``)."""
    blocks = -(-height // block)
    edges = [min(height, (blocks * k // parts) * block)
             for k in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


def run_windows(source,
                predictor,
                plan: WindowPlan,
                part: Tuple[int, int],
                start: int,
                sink: Callable[[int, np.ndarray, np.ndarray], None],
                on_rows: Optional[Callable[[int], None]] = None,
                progress: Optional[ProgressFn] = None) -> int:
    """Run the windows of rows ``[start, part[1])`` and hand finished rows
    on.

    Args:
        source (SceneSource): The open scene (:meth:`read` gives an RGB
            window and its validity).
        predictor (WindowPredictor): The model and its expressions.
        plan (WindowPlan): The window grid and blending.
        part (tuple[int, int]): Rows [y0, y1) this process writes.
        start (int): First row not yet written (``part[0]`` unless
            resuming).
        sink (callable): ``sink(y0, acc, wsum)`` of finished rows (see
            :meth:`RowBuffer.flush`).
        on_rows (callable, optional): Called with the first unwritten row
            after each flush (to save progress). Defaults to None.
        progress (callable, optional): ``progress(done, total)`` after
            each window of this part. Defaults to None.

    Returns:
        int: The windows run (windows without a valid pixel are skipped).
    """
    y_begin, y_end = part
    rows = [r for r in plan.rows(source.height)
            if r[1] > y_begin and r[0] < y_end]
    cols = plan.cols(source.width)
    first = next((i for i, (_, y2) in enumerate(rows) if y2 > start),
                 len(rows))
    total = len(rows) * len(cols)
    done = first * len(cols)
    if first == len(rows) or y_end <= start:
        return 0
    cap = min(y_end - start, plan.crop[0] + BLOCK)
    buffer = RowBuffer(len(predictor.texts), predictor.num_classes, cap,
                       source.width, start, y_end)
    run = 0
    for r in range(first, len(rows)):
        y1, y2 = rows[r]
        for x1, x2 in cols:
            rgb, valid = source.read(y1, y2, x1, x2)
            if valid.any():
                logits = predictor.window_logits(rgb[..., ::-1])
                weights = blend_weights(y2 - y1, x2 - x1, plan.blend,
                                        plan.blend_floor)
                buffer.add(logits, weights, y1, y2, x1, x2)
                run += 1
            done += 1
            if progress is not None:
                progress(done, total)
        final = y_end if r + 1 == len(rows) else min(
            y_end, rows[r + 1][0] // BLOCK * BLOCK)
        if final > buffer.top:
            buffer.flush(final, sink)
            if on_rows is not None:
                on_rows(buffer.top)
    return run


def with_bar(progress: Optional[ProgressFn]) -> ProgressFn:
    """``progress`` plus a progress bar (created at the first window)."""
    bar = []

    def report(done: int, total: int) -> None:
        if not bar:
            bar.append(ProgressBar(total))
            bar[0].completed = done - 1
        bar[0].update()
        if done == total:
            print()
        if progress is not None:
            progress(done, total)

    return report


__all__ = ['ProgressFn', 'WindowPlan', 'run_windows', 'split_rows', 'with_bar']
