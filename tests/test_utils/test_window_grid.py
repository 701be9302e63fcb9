"""The one sliding-window grid."""
import pytest

from mmrrsis.utils import window_grid, window_spans


def test_spans_cover_and_end_on_the_border():
    assert window_spans(100, 64, 48) == [(0, 64), (36, 100)]
    assert window_spans(30, 64, 48) == [(0, 30)]  # shorter than a window
    spans = window_spans(1000, 64, 42)
    assert spans[-1][1] == 1000 and all(b - a == 64 for a, b in spans)
    assert all(b[0] - a[0] <= 42 for a, b in zip(spans, spans[1:]))
    with pytest.raises(ValueError, match='leave pixels out'):
        window_spans(100, 32, 48)
    with pytest.raises(ValueError, match='positive'):
        window_spans(0, 32, 16)


def test_grid_rows_first():
    grid = window_grid(100, 150, (64, 64), (48, 48))
    assert len(grid) == 2 * 3
    assert grid[:3] == [(0, 64, 0, 64), (0, 64, 48, 112), (0, 64, 86, 150)]
    assert grid[3][0] == 36
