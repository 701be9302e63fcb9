"""The write stage: the model's rule on blended logits, strips, assembling
parts into bytes that do not depend on the number of parts, mapping a
resampled grid back."""
import filecmp

import cv2
import numpy as np
import rasterio
from rasterio.windows import Window

from mmrrsis.apis.scene.write import (
    NODATA,
    StripWriter,
    assemble,
    output_names,
    raster_profile,
    to_probabilities,
    to_rasters,
    upsample_rows,
)


class _Rule:
    """The two-class rule of RRSISEncoderDecoder, without a model."""

    def probs(self, logits):
        e = np.exp(logits - logits.max(1, keepdims=True))
        return (e[:, 1] / e.sum(1)).astype(np.float32)

    def masks(self, probs):
        return probs > 0.5


def test_rasters_and_probabilities_with_the_rule():
    rng = np.random.default_rng(0)
    acc = rng.standard_normal((2, 2, 40, 8)).astype(np.float32)
    wsum = np.full((40, 8), 2., np.float32)
    wsum[0, 0] = 0  # no window ran there
    valid = np.ones((40, 8), bool)
    valid[5, :] = False
    out = to_rasters(_Rule(), acc, wsum, valid)
    assert out.shape == (4, 40, 8) and out.dtype == np.uint8
    prob = _Rule().probs(acc / 2)
    assert (out[:2, 5] == NODATA).all() and (out[:, 0, 0] == NODATA).all()
    ok = valid & (wsum > 0)
    np.testing.assert_array_equal(out[:2][:, ok], (prob > 0.5)[:, ok])
    np.testing.assert_array_equal(out[2:][:, ok],
                                  np.rint(prob * 254)[:, ok])
    floats = to_probabilities(_Rule(), acc, wsum, valid)
    assert floats.dtype == np.float32 and (floats[:, 5] == 0).all()
    np.testing.assert_allclose(floats[:, ok], prob[:, ok])


def test_output_names():
    names = output_names('scene', ['Long truck!', '  '])
    assert names[0] == dict(mask='scene_00_long-truck_mask.tif',
                            score='scene_00_long-truck_score.tif')
    assert names[1]['mask'] == 'scene_01_expression_mask.tif'


def _part(path, rows, data):
    writer = StripWriter([path], raster_profile(rows, 300, None, None,
                                                'uint8', NODATA))
    writer.write(0, data[None])
    return path


def test_assembled_bytes_do_not_depend_on_the_parts(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 3, (600, 300)).astype(np.uint8)
    profile = raster_profile(600, 300, None, None, 'uint8', NODATA)
    whole = _part(str(tmp_path / 'whole.tif'), 600, data)
    one = str(tmp_path / 'one.tif')
    assemble([(0, 600, [whole])], StripWriter([one], profile))
    top = _part(str(tmp_path / 'top.tif'), 256, data[:256])
    bottom = _part(str(tmp_path / 'bottom.tif'), 344, data[256:])
    two = str(tmp_path / 'two.tif')
    assemble([(0, 256, [top]), (256, 600, [bottom])],
             StripWriter([two], profile))
    assert filecmp.cmp(one, two, shallow=False)
    with rasterio.open(two) as src:
        np.testing.assert_array_equal(src.read(1), data)


def test_upsample_rows_is_bilinear_and_seamless(tmp_path):
    coarse = np.random.default_rng(0).random((13, 17)).astype(np.float32)
    path = str(tmp_path / 'c.tif')
    with rasterio.open(path, 'w', driver='GTiff', width=17, height=13,
                       count=1, dtype='float32') as dst:
        dst.write(coarse, 1)
    expected = cv2.resize(coarse, (68, 52), interpolation=cv2.INTER_LINEAR)
    with rasterio.open(path) as src:
        whole = upsample_rows(src, 0, 52, 4., 4., 68)
        strips = np.concatenate(
            [upsample_rows(src, y, min(y + 5, 52), 4., 4., 68)
             for y in range(0, 52, 5)])
        window = src.read(1, window=Window(0, 0, 17, 13))
    np.testing.assert_allclose(whole, expected, atol=1e-5)
    np.testing.assert_array_equal(strips, whole)
    assert window.shape == (13, 17)
