"""SceneInferencer on generated georeferenced scenes (tiny LGCE, random
weights: the tests compare outputs with each other and with
RRSISInferencer, not with the ground truth)."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import rasterio
import shapely

from mmrrsis.apis import RRSISInferencer, SceneInferencer
from mmrrsis.datasets.band_scaling import BandScalingError
from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene
from mmrrsis.utils import window_spans

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
TEXTS = ['car', 'building along the road']
PERCENTILE = dict(bands=(3, 2, 1), scale='percentile')
CROP, STRIDE = 64, 42


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    """A 192 x 256 scene of 64 px tiles (1.04 m), nodata border."""
    root = str(tmp_path_factory.mktemp('scene'))
    return make_synthetic_geo_scene(root, tiles=(3, 4), tile_size=64)


@pytest.fixture(scope='module')
def stretched_scene(tmp_path_factory):
    """The same, its 8-bit variant a 3% saturating stretch."""
    root = str(tmp_path_factory.mktemp('stretched'))
    return make_synthetic_geo_scene(root, tiles=(3, 4), tile_size=64,
                                    stretch=3.)


@pytest.fixture(scope='module')
def inferencer(lgce_tiny_ckpt):
    return SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                           crop_size=CROP, stride=STRIDE)


def _read(path, band=1):
    with rasterio.open(path) as src:
        return src.read(band)


def _scene_bgr_and_valid(path):
    with rasterio.open(path) as src:
        rgb = src.read().transpose(1, 2, 0)
        return np.ascontiguousarray(rgb[..., ::-1]), src.dataset_mask() > 0


def _run(inferencer, path, out_dir, **kwargs):
    kwargs.setdefault('show_progress', False)
    return inferencer(path, TEXTS, str(out_dir), **kwargs)


def test_outputs_on_the_scene_grid(inferencer, scene, tmp_path):
    result = _run(inferencer, scene['rgb8'], tmp_path)
    with rasterio.open(scene['rgb8']) as src:
        crs, transform, shape = src.crs, src.transform, src.shape
        invalid = src.dataset_mask() == 0
    assert invalid.sum() > 0
    for k, path in enumerate(result.masks + result.scores):
        with rasterio.open(path) as out:
            assert out.crs == crs and out.crs.to_epsg() == 32632
            assert out.transform == transform
            assert out.shape == shape and out.count == 1
            assert out.dtypes[0] == 'uint8' and out.nodata == 255
            assert out.block_shapes == [(256, 256)] or out.is_tiled
            assert out.compression.value == 'DEFLATE'
            assert out.descriptions[0] == TEXTS[k % len(TEXTS)]
            data = out.read(1)
            # the outputs' nodata pixels are exactly the scene's
            np.testing.assert_array_equal(out.dataset_mask() == 0, invalid)
            np.testing.assert_array_equal(data == 255, invalid)
    for path in result.masks:
        values = set(np.unique(_read(path)).tolist())
        assert values <= {0, 1, 255} and 1 in values
    summary = json.load(open(osp.join(tmp_path, 'scene_rgb8_summary.json')))
    assert summary['crs'] == 'EPSG:32632'
    assert summary['size'] == [192, 256]
    assert summary['area_unit'] == 'm^2'
    assert summary['windows']['crop_size'] == [CROP, CROP]
    assert osp.isfile(result.overview)
    picture = cv2.imread(result.overview)
    assert picture.shape[0] > 192 and picture.shape[1] >= 256


def test_uniform_blend_equals_rrsis_inferencer_slide(lgce_tiny_ckpt, scene,
                                                     tmp_path):
    """Plain averaging of the same windows on the same pixels: the masks of
    RRSISInferencer's slide inference, exactly (two expressions in one
    batch, windows read from the file one by one)."""
    bgr, valid = _scene_bgr_and_valid(scene['rgb8'])
    ref = RRSISInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                          slide=dict(crop_size=CROP, stride=STRIDE))
    expected = ref(bgr, TEXTS)['predictions']
    inferencer = SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                                 crop_size=CROP, stride=STRIDE,
                                 blend='uniform')
    result = _run(inferencer, scene['rgb8'], tmp_path, vectors=False,
                  overview=False)
    for k, path in enumerate(result.masks):
        mask = _read(path)
        np.testing.assert_array_equal(mask[valid], expected[k][valid])
        assert (mask[~valid] == 255).all()


def test_weighted_blend_agrees_where_windows_agree(lgce_tiny_ckpt, scene,
                                                   tmp_path):
    """Hann blending is a convex combination of the same windows' logits,
    so wherever every window covering a pixel predicts the same class the
    blended mask has that class too; it may differ from plain averaging
    only where windows disagree (about 10% of the pixels with these
    random weights)."""
    bgr, valid = _scene_bgr_and_valid(scene['rgb8'])
    ref = RRSISInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                          slide=dict(crop_size=CROP, stride=STRIDE))
    averaged = ref(bgr, TEXTS)['predictions']
    height, width = valid.shape
    lo = np.full((len(TEXTS), height, width), 1, np.uint8)
    hi = np.zeros((len(TEXTS), height, width), np.uint8)
    for y1, y2 in window_spans(height, CROP, STRIDE):
        for x1, x2 in window_spans(width, CROP, STRIDE):
            crop = np.ascontiguousarray(bgr[y1:y2, x1:x2])
            for k, m in enumerate(ref(crop, TEXTS)['predictions']):
                lo[k, y1:y2, x1:x2] = np.minimum(lo[k, y1:y2, x1:x2], m)
                hi[k, y1:y2, x1:x2] = np.maximum(hi[k, y1:y2, x1:x2], m)
    hann = SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                           crop_size=CROP, stride=STRIDE)
    assert hann.blend == 'hann'
    result = _run(hann, scene['rgb8'], tmp_path, vectors=False,
                  overview=False)
    for k, path in enumerate(result.masks):
        mask = _read(path)
        agree = (lo[k] == hi[k]) & valid
        assert agree.sum() > 0.3 * valid.sum()
        np.testing.assert_array_equal(mask[agree], lo[k][agree])
        differ = (mask != averaged[k]) & valid
        assert not (differ & agree).any()
        assert differ.sum() > 0  # the weights do change seams


def test_polygons_area_equals_mask_pixels(inferencer, scene, tmp_path):
    result = _run(inferencer, scene['rgb8'], tmp_path, gpkg=True)
    with rasterio.open(scene['rgb8']) as src:
        pixel_area = abs(src.transform.a * src.transform.e)
        bounds = shapely.box(*src.bounds)
    layer = json.load(open(result.geojson))
    assert layer['crs']['properties']['name'] == \
        'urn:ogc:def:crs:EPSG::32632'
    for k, path in enumerate(result.masks):
        pixels = int((_read(path) == 1).sum())
        feats = [f for f in layer['features']
                 if f['properties']['expression_index'] == k]
        assert feats and all(
            f['properties']['expression'] == TEXTS[k] for f in feats)
        areas = [f['properties']['area'] for f in feats]
        geoms = [shapely.geometry.shape(f['geometry']) for f in feats]
        assert sum(areas) == pytest.approx(pixels * pixel_area, rel=1e-9)
        assert sum(g.area for g in geoms) == pytest.approx(
            pixels * pixel_area, rel=1e-9)
        assert all(bounds.covers(g) for g in geoms)
        assert all(0 <= f['properties']['mean_score'] <= 1 for f in feats)
        assert result.summary['expressions'][k]['area'] == pytest.approx(
            pixels * pixel_area)
    pyogrio = pytest.importorskip('pyogrio')
    info = pyogrio.read_info(result.gpkg, layer='masks')
    assert info['features'] == len(layer['features'])
    assert 'EPSG:32632' in info['crs']


def test_min_area_and_simplify(inferencer, scene, tmp_path):
    full = _run(inferencer, scene['rgb8'], tmp_path / 'a', overview=False)
    small = _run(inferencer, scene['rgb8'], tmp_path / 'b', overview=False,
                 min_area=50., simplify=1.5)
    feats = json.load(open(full.geojson))['features']
    kept = json.load(open(small.geojson))['features']
    assert len(kept) == sum(f['properties']['area'] >= 50. for f in feats)
    assert all(f['properties']['area'] >= 50. for f in kept)
    vertices = sum(
        len(shapely.get_coordinates(shapely.geometry.shape(f['geometry'])))
        for f in kept)
    vertices_full = sum(
        len(shapely.get_coordinates(shapely.geometry.shape(f['geometry'])))
        for f in feats if f['properties']['area'] >= 50.)
    assert vertices < vertices_full


def test_uint16_minmax_equals_rgb8(inferencer, scene, tmp_path):
    """The 4-band uint16 variant with bands (3, 2, 1) and the fixed range
    that maps it back gives the 8-bit scene's masks exactly."""
    u16 = scene['uint16']
    rgb = _run(inferencer, scene['rgb8'], tmp_path / 'rgb', vectors=False,
               overview=False)
    res = _run(inferencer, scene['bgrn16'], tmp_path / 'u16',
               vectors=False, overview=False, scaling=dict(
                   bands=(3, 2, 1), scale='minmax',
                   min_value=u16['min_value'], max_value=u16['max_value']))
    for a, b in zip(rgb.masks, res.masks):
        np.testing.assert_array_equal(_read(a), _read(b))


def test_uint16_percentile_equals_rgb8(inferencer, stretched_scene,
                                       tmp_path):
    """With an 8-bit variant whose own 2-98% range is 0-255 (a stretched
    product), the percentile stretch of the uint16 variant, computed once
    on the (decimated) scene, maps back to it exactly: same masks."""
    scene = stretched_scene
    rgb = _run(inferencer, scene['rgb8'], tmp_path / 'rgb', vectors=False,
               overview=False)
    res = _run(inferencer, scene['bgrn16'], tmp_path / 'u16',
               vectors=False, overview=False, scaling=PERCENTILE)
    rng = res.summary['scaling']['range']
    assert rng['low'] == scene['uint16']['min_value']
    assert rng['high'] == scene['uint16']['max_value']
    for a, b in zip(rgb.masks, res.masks):
        np.testing.assert_array_equal(_read(a), _read(b))


def test_uint16_without_scaling_says_what_to_do(inferencer, scene,
                                                tmp_path):
    with pytest.raises(BandScalingError) as info:
        _run(inferencer, scene['bgrn16'], tmp_path)
    msg = str(info.value)
    assert scene['bgrn16'] in msg and 'uint16' in msg and '4 band' in msg
    assert "scale='percentile'" in msg and 'bands=(3, 2, 1)' in msg
    with pytest.raises(BandScalingError, match='has 4 band'):
        _run(inferencer, scene['bgrn16'], tmp_path,
             scaling=dict(bands=(5, 2, 1), scale='percentile'))


def test_striped_geotiff_gives_the_same_masks(inferencer, scene, tmp_path):
    """A striped (untiled, uncompressed) copy reads window by window too."""
    striped = str(tmp_path / 'striped.tif')
    with rasterio.open(scene['rgb8']) as src:
        profile = dict(src.profile, tiled=False, compress=None)
        profile.pop('blockxsize', None)
        profile.pop('blockysize', None)
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), \
                rasterio.open(striped, 'w', **profile) as dst:
            dst.write(src.read())
            dst.write_mask(src.dataset_mask())
    with rasterio.open(striped) as src:
        assert not src.is_tiled
    tiled = _run(inferencer, scene['rgb8'], tmp_path / 'tiled',
                 vectors=False, overview=False)
    plain = _run(inferencer, striped, tmp_path / 'striped', vectors=False,
                 overview=False)
    for a, b in zip(tiled.masks, plain.masks):
        np.testing.assert_array_equal(_read(a), _read(b))


def test_plain_png_without_georeferencing(inferencer, scene, tmp_path):
    bgr, valid = _scene_bgr_and_valid(scene['rgb8'])
    png = str(tmp_path / 'tile.png')
    cv2.imwrite(png, bgr)
    result = _run(inferencer, png, tmp_path / 'png')
    ref = _run(inferencer, scene['rgb8'], tmp_path / 'tif', vectors=False,
               overview=False)
    assert result.summary['georeferenced'] is False
    assert result.summary['area_unit'] == 'px'
    assert result.summary['crs'] is None
    for a, b in zip(result.masks, ref.masks):
        with rasterio.open(a) as out:
            assert out.crs is None and out.shape == valid.shape
            mask = out.read(1)
        assert set(np.unique(mask).tolist()) <= {0, 1}  # no nodata in a PNG
        np.testing.assert_array_equal(mask[valid], _read(b)[valid])
    layer = json.load(open(result.geojson))
    assert 'crs' not in layer
    pixels = int((_read(result.masks[0]) == 1).sum())
    assert sum(f['properties']['area'] for f in layer['features']
               if f['properties']['expression_index'] == 0) == pixels
    with pytest.raises(ValueError, match='no georeferencing'):
        _run(inferencer, png, tmp_path / 'gsd', gsd=2.)


def test_resume_continues_and_gives_the_same_outputs(inferencer, tmp_path):
    """Interrupt after some rows were written; the second run starts after
    them and ends with files equal to an uninterrupted run's."""
    tall = make_synthetic_geo_scene(str(tmp_path / 'tall'), tiles=(7, 2),
                                    tile_size=64)
    fresh = _run(inferencer, tall['bgrn16'], tmp_path / 'fresh',
                 scaling=PERCENTILE, overview=False)
    calls = []

    def stop_late(done, total):
        calls.append(done)
        if done == total - 3:
            raise KeyboardInterrupt

    out = tmp_path / 'resumed'
    with pytest.raises(KeyboardInterrupt):
        _run(inferencer, tall['bgrn16'], out, scaling=PERCENTILE,
             progress=stop_late)
    record = json.load(
        open(out / '.scene_bgrn16_parts' / 'rank0of1' / 'progress.json'))
    assert record['rows_done'] == 256 and not record['complete']
    assert not (out / '.scene_bgrn16.progress.json').exists()
    total = calls[-1] + 3
    calls.clear()
    result = _run(inferencer, tall['bgrn16'], out, scaling=PERCENTILE,
                  progress=lambda d, t: calls.append(d), overview=False)
    assert result.summary['resumed_from_row'] == 256
    assert 0 < result.summary['windows_run'] < total
    assert calls[0] > 1
    for a, b in zip(fresh.masks + fresh.scores,
                    result.masks + result.scores):
        np.testing.assert_array_equal(_read(a), _read(b))
    assert open(fresh.geojson).read() == open(result.geojson).read()
    # complete: a third call does not run the model again
    again = _run(inferencer, tall['bgrn16'], out, scaling=PERCENTILE,
                 overview=False)
    assert again.summary['already_complete'] is True
    assert again.summary['windows_run'] == 0
    # an output removed since: starts over
    os.remove(result.masks[0])
    redo = _run(inferencer, tall['bgrn16'], out, scaling=PERCENTILE,
                overview=False, vectors=False)
    assert redo.summary['resumed_from_row'] == 0
    assert redo.summary['windows_run'] == total
    np.testing.assert_array_equal(_read(redo.masks[0]), _read(fresh.masks[0]))
    # other settings: starts over
    other = _run(inferencer, tall['bgrn16'], out,
                 scaling=dict(PERCENTILE, percentiles=(1, 99)),
                 overview=False, vectors=False)
    assert other.summary['resumed_from_row'] == 0


def test_gsd_resamples_and_maps_back(inferencer, scene, tmp_path):
    """At twice the scene's ground resolution the model runs on a half-size
    grid; masks come back on the scene's grid, nodata never target."""
    result = _run(inferencer, scene['rgb8'], tmp_path, gsd=2.08,
                  overview=False)
    grid = result.summary['model_grid']
    assert grid['size'] == [96, 128] and grid['resampled'] is True
    assert grid['gsd'] == [pytest.approx(2.08)] * 2
    _, valid = _scene_bgr_and_valid(scene['rgb8'])
    with rasterio.open(scene['rgb8']) as src:
        transform = src.transform
    for path in result.masks:
        with rasterio.open(path) as out:
            assert out.transform == transform and out.shape == valid.shape
            mask = out.read(1)
        np.testing.assert_array_equal(mask == 255, ~valid)
        assert set(np.unique(mask[valid]).tolist()) <= {0, 1}
    same = _run(inferencer, scene['rgb8'], tmp_path / 'same', gsd=1.04,
                vectors=False, overview=False)
    assert same.summary['model_grid']['resampled'] is False


def test_bad_input_is_named(inferencer, scene, tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        _run(inferencer, str(tmp_path / 'missing.tif'), tmp_path)
    with pytest.raises(ValueError, match='empty'):
        inferencer(scene['rgb8'], ['car', ' '], str(tmp_path))
    broken = tmp_path / 'broken.tif'
    broken.write_bytes(b'II*\x00garbage')
    with pytest.raises(ValueError, match='broken.tif'):
        _run(inferencer, str(broken), tmp_path)


def test_gsd_config_reads_train_gsd(inferencer, lgce_tiny_ckpt, scene,
                                    tmp_path):
    """gsd='config' runs at the config's train_gsd (the tiny configs state
    1.04 m, the scene's own resolution); a config without one is named."""
    assert inferencer.train_gsd == pytest.approx(1.04)
    same = _run(inferencer, scene['rgb8'], tmp_path / 'same', gsd='config',
                vectors=False, overview=False)
    grid = same.summary['model_grid']
    assert grid['resampled'] is False
    assert grid['gsd'] == [pytest.approx(1.04)] * 2
    coarse = SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                             crop_size=CROP, stride=STRIDE,
                             cfg_options=dict(train_gsd=2.08))
    half = _run(coarse, scene['rgb8'], tmp_path / 'half', gsd='config',
                vectors=False, overview=False)
    assert half.summary['model_grid']['size'] == [96, 128]
    unstated = SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                               crop_size=CROP, stride=STRIDE,
                               cfg_options=dict(train_gsd=None))
    with pytest.raises(ValueError, match='train_gsd'):
        _run(unstated, scene['rgb8'], tmp_path, gsd='config')


def test_config_band_settings_apply_without_arguments(lgce_tiny_ckpt, scene,
                                                      inferencer, tmp_path):
    """A config whose LoadRSImageFromFile selects bands and scales reads a
    uint16 scene with them when no band / scaling argument is given."""
    u16 = scene['uint16']
    loader = 'test_dataloader.dataset.pipeline.0'
    configured = SceneInferencer(
        LGCE_TINY, lgce_tiny_ckpt, device='cpu', crop_size=CROP,
        stride=STRIDE, cfg_options={
            f'{loader}.bands': (3, 2, 1), f'{loader}.scale': 'minmax',
            f'{loader}.min_value': u16['min_value'],
            f'{loader}.max_value': u16['max_value']})
    res = _run(configured, scene['bgrn16'], tmp_path / 'u16',
               vectors=False, overview=False)
    assert res.summary['scaling']['bands'] == [3, 2, 1]
    rgb = _run(inferencer, scene['rgb8'], tmp_path / 'rgb', vectors=False,
               overview=False)
    for a, b in zip(rgb.masks, res.masks):
        np.testing.assert_array_equal(_read(a), _read(b))
