"""The generated georeferenced scene and its ground truth."""
import json
import os.path as osp

import numpy as np
import pytest
import rasterio

from mmrrsis.datasets.synthetic import RULES, generate_scene
from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene


@pytest.fixture(scope='module')
def info(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('geo'))
    return make_synthetic_geo_scene(root, tiles=(2, 3), tile_size=64,
                                    seed=5, texts=('car', 'road'))


def test_grid_crs_and_nodata(info):
    with rasterio.open(info['rgb8']) as rgb, \
            rasterio.open(info['bgrn16']) as u16:
        assert rgb.crs.to_epsg() == 32632 and u16.crs == rgb.crs
        assert rgb.crs.is_projected
        assert rgb.transform == u16.transform
        assert rgb.transform.a == pytest.approx(0.13 * 512 / 64)
        assert rgb.transform.e == -rgb.transform.a
        assert (rgb.height, rgb.width) == (128, 192) == tuple(info['size'])
        assert rgb.dtypes == ('uint8', ) * 3 and rgb.count == 3
        assert u16.dtypes == ('uint16', ) * 4 and u16.nodata == 0
        assert rgb.is_tiled and rgb.compression.value == 'DEFLATE'
        assert u16.descriptions == ('blue', 'green', 'red', 'nir')
        valid = rgb.dataset_mask() > 0
        np.testing.assert_array_equal(u16.dataset_mask() > 0, valid)
        border = info['border']
        assert not valid[:border].any() and not valid[:, -border:].any()
        assert not valid[border, border] and valid[-border - 1, border]
        assert valid.sum() == info['valid_pixels']
        data = u16.read()
        image = rgb.read()
    # band b of the uint16 file = offset + gain * the 8-bit value
    offset = np.array(info['uint16']['offset'])[:, None]
    gain = np.array(info['uint16']['gain'])[:, None]
    bgr = image[::-1][:, valid].astype(np.int64)
    np.testing.assert_array_equal(data[:3, valid], offset[:3] + gain[:3] * bgr)
    assert (data[3, valid] >= offset[3]).all()
    assert (data[:, ~valid] == 0).all() and (image[:, ~valid] == 0).all()


def test_ground_truth_is_the_tiles_objects(info):
    texts = [e['text'] for e in info['expressions']]
    rules = {r.text: r for r in RULES}
    with rasterio.open(info['rgb8']) as src:
        valid = src.dataset_mask() > 0
        image = src.read().transpose(1, 2, 0)
    for k, item in enumerate(info['expressions']):
        with rasterio.open(item['gt']) as gt:
            assert gt.transform.a == pytest.approx(info['gsd'])
            assert gt.nodata == 255 and gt.descriptions[0] == texts[k]
            mask = gt.read(1)
        np.testing.assert_array_equal(mask == 255, ~valid)
        # the tile at row 1, column 2 is generate_scene(64, rng([5, 5]))
        tile = generate_scene(64, np.random.default_rng([5, 5]))
        expected = tile.mask_of(rules[texts[k]].select(tile))
        got = mask[64:, 128:]
        ok = valid[64:, 128:]
        np.testing.assert_array_equal(got[ok], expected[ok])
        np.testing.assert_array_equal(image[64:, 128:][ok], tile.image[ok])
    meta = json.load(open(osp.join(osp.dirname(info['rgb8']),
                                   'scene.json')))
    assert meta['expressions'] == info['expressions']


def test_stretch_saturates_each_band(tmp_path):
    info = make_synthetic_geo_scene(str(tmp_path), tiles=(2, 2),
                                    tile_size=64, stretch=3.)
    with rasterio.open(info['rgb8']) as src:
        valid = src.dataset_mask() > 0
        for band in src.read():
            values = band[valid]
            assert (values == 0).mean() >= 0.03
            assert (values == 255).mean() >= 0.03
            assert np.percentile(values, 2) == 0
            assert np.percentile(values, 98) == 255


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='not an expression.*long truck'):
        make_synthetic_geo_scene(str(tmp_path), tiles=(1, 1),
                                 tile_size=64, texts=('purple house', ))
    with pytest.raises(ValueError, match='leaves nothing'):
        make_synthetic_geo_scene(str(tmp_path), tiles=(1, 1),
                                 tile_size=64, border=40)
