"""The predict stage: rows split among processes, and the windows of two
parts giving exactly the rows of one pass."""
import numpy as np
import pytest

from mmrrsis.apis.scene.predict import WindowPlan, run_windows, split_rows


def test_split_rows_on_block_rows():
    assert split_rows(1000, 1) == [(0, 1000)]
    assert split_rows(1000, 2) == [(0, 512), (512, 1000)]
    parts = split_rows(1000, 3, block=100)
    assert parts == [(0, 300), (300, 600), (600, 1000)]
    assert split_rows(100, 3) == [(0, 0), (0, 0), (0, 100)]
    for parts in (split_rows(5000, 7), split_rows(257, 2)):
        assert parts[0][0] == 0 and parts[-1][1] == parts[-1][1]
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        assert all(y0 % 256 == 0 for y0, _ in parts)


class _Source:
    """A scene of random pixels, a nodata corner."""

    def __init__(self, height, width):
        rng = np.random.default_rng(0)
        self.rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        self.height, self.width = height, width
        self.ok = np.ones((height, width), bool)
        self.ok[:20, :20] = False

    def read(self, y0, y1, x0, x1):
        return self.rgb[y0:y1, x0:x1], self.ok[y0:y1, x0:x1]


class _Predictor:
    """Logits that depend on the window's pixels (two texts, 2 classes)."""
    texts = ['a', 'b']
    num_classes = 2

    def window_logits(self, bgr):
        x = bgr.astype(np.float32).transpose(2, 0, 1) / 255.
        return np.stack([x[:2], x[1:]]) - 0.5


def _rows(source, plan, part, start=None):
    got = {}

    def sink(top, acc, wsum):
        got[top] = (acc.copy(), wsum.copy())

    saved = []
    run = run_windows(source, _Predictor(), plan, part,
                      part[0] if start is None else start, sink,
                      saved.append)
    acc = np.concatenate([got[k][0] for k in sorted(got)], axis=2)
    wsum = np.concatenate([got[k][1] for k in sorted(got)])
    return acc, wsum, run, saved


@pytest.mark.parametrize('blend', ['hann', 'uniform'])
def test_two_parts_sum_what_one_pass_sums(blend):
    source = _Source(700, 90)
    plan = WindowPlan((64, 64), (42, 42), blend)
    acc, wsum, run, saved = _rows(source, plan, (0, 700))
    assert acc.shape == (2, 2, 700, 90) and (wsum > 0).all()
    assert saved[-1] == 700 and all(s % 256 == 0 for s in saved[:-1])
    rows, cols = len(plan.rows(700)), len(plan.cols(90))
    assert run == rows * cols  # the nodata corner is inside windows
    top_acc, top_w, top_run, _ = _rows(source, plan, (0, 512))
    bot_acc, bot_w, bot_run, _ = _rows(source, plan, (512, 700))
    np.testing.assert_array_equal(np.concatenate([top_acc, bot_acc], 2),
                                  acc)
    np.testing.assert_array_equal(np.concatenate([top_w, bot_w]), wsum)
    assert top_run + bot_run > run  # the border's windows run twice
    # resuming after row 256 gives the same rows after it
    rest, rest_w, rest_run, _ = _rows(source, plan, (0, 700), start=256)
    np.testing.assert_array_equal(rest, acc[:, :, 256:])
    assert rest_run < run


def test_windows_without_valid_pixels_are_skipped():
    source = _Source(64, 64)
    source.ok[:] = False
    acc, wsum, run, _ = _rows(source, WindowPlan((64, 64), (64, 64)),
                              (0, 64))
    assert run == 0 and (wsum == 0).all()
