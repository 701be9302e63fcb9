"""The blend stage: window weights and the row buffer."""
import numpy as np
import pytest

from mmrrsis.apis.scene.blend import (
    RowBuffer,
    blend_weights,
    blend_weights_1d,
    mean_logits,
)


def test_weights_by_mode():
    hann = blend_weights_1d(8, 'hann', 0.05)
    assert hann.dtype == np.float32 and hann.min() >= 0.05
    assert hann[3] == hann[4] == hann.max() and hann[0] == hann[-1]
    assert (blend_weights_1d(5, 'uniform') == 1).all()
    tri = blend_weights_1d(6, 'triangular', 0.1)
    assert tri[0] == pytest.approx(0.1 + 0.9 / 6)
    grid = blend_weights(4, 6, 'hann')
    np.testing.assert_allclose(
        grid, np.outer(blend_weights_1d(4), blend_weights_1d(6)))
    with pytest.raises(ValueError, match='blend'):
        blend_weights_1d(4, 'gauss')
    with pytest.raises(ValueError, match='floor'):
        blend_weights_1d(4, 'hann', 0.)


def test_row_buffer_sums_what_a_full_array_sums():
    """Windows added and rows flushed in pieces give the sums of one
    array holding every row; rows at and below ``bottom`` are cut."""
    rng = np.random.default_rng(0)
    height, width, crop = 40, 12, 8
    windows = [(y, y + crop, x, x + crop) for y in range(0, 33, 5)
               for x in (0, 4)]
    full = np.zeros((2, 2, height, width), np.float32)
    wfull = np.zeros((height, width), np.float32)
    flushed = []
    buffer = RowBuffer(2, 2, crop + 8, width, top=0, bottom=30)
    for y1, y2, x1, x2 in windows:
        logits = rng.standard_normal((2, 2, crop, crop)).astype(np.float32)
        weights = blend_weights(crop, crop)
        full[:, :, y1:y2, x1:x2] += logits * weights
        wfull[y1:y2, x1:x2] += weights
        buffer.add(logits, weights, y1, y2, x1, x2)
        if x1 == 4:  # a row of windows done: rows above the next are final
            final = min(30, y1 + 5)
            buffer.flush(final, lambda top, acc, w: flushed.append(
                (top, acc.copy(), w.copy())))
    buffer.flush(30, lambda top, acc, w: flushed.append(
        (top, acc.copy(), w.copy())))
    assert [f[0] for f in flushed][:3] == [0, 5, 10]
    acc = np.concatenate([f[1] for f in flushed], axis=2)
    wsum = np.concatenate([f[2] for f in flushed])
    assert acc.shape == (2, 2, 30, width)
    np.testing.assert_array_equal(acc, full[:, :, :30])
    np.testing.assert_array_equal(wsum, wfull[:30])
    mean = mean_logits(acc, wsum)
    np.testing.assert_allclose(mean, full[:, :, :30] / wfull[:30],
                               rtol=1e-6)
    empty = mean_logits(np.ones((1, 1, 2, 2), np.float32),
                        np.zeros((2, 2), np.float32))
    assert (empty == 1).all()  # no window: weights 0, sums kept
