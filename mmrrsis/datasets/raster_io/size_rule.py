"""The size rule: limits on what a run computes and on what one read holds,
not on a raster's header."""
from typing import Optional, Sequence, Tuple, Union

from .errors import RasterSizeError

#: Most pixels (height x width) one read may hold: a window, a strip, a
#: decimated read, a whole image read by ``LoadRSImageFromFile``, the
#: scene inference's row buffer (per expression and class).
MAX_READ_PIXELS = 2**28
#: Default most pixels a scene run computes (windows x window pixels x
#: expressions), for ``SceneInferencer`` and ``tools/infer_scene.py``.
MAX_SCENE_PIXELS = 300_000_000


def check_scene_size(source: str,
                     rows: Sequence[Tuple[int, int]],
                     cols: Sequence[Tuple[int, int]],
                     expressions: int,
                     classes: int,
                     buffer_rows: int,
                     max_pixels: Optional[int] = MAX_SCENE_PIXELS,
                     max_read_pixels: Optional[int] = MAX_READ_PIXELS,
                     option: str = '--max-pixels') -> int:
    """Apply the size rule to a scene run before any pixel is read.

    The rule: ``windows x window pixels x expressions`` (what the model
    computes, on the model grid) at most ``max_pixels``; the run's row
    buffer (``buffer_rows x width`` per expression and class) at most
    ``max_read_pixels``.

    Args:
        source (str): The scene, for messages.
        rows, cols (Sequence[tuple[int, int]]): The windows' spans along
            each axis.
        expressions (int): Number of expressions.
        classes (int): Output channels of the model.
        buffer_rows (int): Rows of the row buffer.
        max_pixels (int, optional): None: no limit. Defaults to
            :data:`MAX_SCENE_PIXELS`.
        max_read_pixels (int, optional): None: no limit. Defaults to
            :data:`MAX_READ_PIXELS`.
        option (str): How the caller sets ``max_pixels``, for messages.
            Defaults to '--max-pixels'.

    Returns:
        int: The pixels the run computes.

    Raises:
        RasterSizeError: Above a limit; the message names the rule and
            the numbers.
    """
    height = sum(b - a for a, b in rows)
    width = sum(b - a for a, b in cols)
    windows = len(rows) * len(cols)
    computed = height * width * expressions
    if max_pixels is not None and computed > max_pixels:
        raise RasterSizeError(
            f'Refusing to run on {source}: {windows:,} windows x their '
            f'pixels x {expressions} expression(s) = {computed:,} pixels to '
            f'compute, above the limit of {max_pixels:,} (the size rule: '
            'windows x window pixels x expressions, on the model grid). If '
            f'the scene is meant to be this large, set {option} to at '
            f'least {computed:,} (0: no limit).', computed, max_pixels)
    last = cols[-1][1] if cols else 0
    buffered = buffer_rows * last * expressions * classes
    if max_read_pixels is not None and buffered > max_read_pixels:
        raise RasterSizeError(
            f'Refusing to run on {source}: a scene {last:,} pixels wide '
            f'needs a row buffer of {buffer_rows} rows x {last:,} columns x '
            f'{expressions} expression(s) x {classes} classes = '
            f'{buffered:,} values, above the limit of {max_read_pixels:,} '
            'for one buffer or read (the size rule). Cut the scene into '
            'narrower strips, or use fewer expressions per run.', buffered,
            max_read_pixels)
    return computed


def limit_from_option(value: Union[int, None]) -> Optional[int]:
    """A ``--max-pixels`` value as a limit: 0 or a negative -> None."""
    if value is None or int(value) <= 0:
        return None
    return int(value)
