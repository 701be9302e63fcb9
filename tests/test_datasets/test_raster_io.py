"""The raster opener (mmrrsis/datasets/raster_io/): formats told by
content, no VRT unless asked (and then checked), no side files, no network,
no Python from a VRT, decode errors raised naming file, band and window,
and the size rule. Each hostile fixture is shown to work on plain rasterio
first, so a passing test means the opener stopped it."""
import functools
import http.server
import os
import shutil
import threading

import cv2
import hostile_rasters as hr
import numpy as np
import pytest
import rasterio

from mmrrsis.datasets.raster_io import (
    MAX_READ_PIXELS,
    RasterDecodeError,
    RasterSizeError,
    UnsupportedRasterError,
    allowed_formats,
    check_scene_size,
    gdal_env,
    gdal_warnings,
    open_raster,
    sniff_format,
)
from mmrrsis.datasets.transforms import LoadRSImageFromFile


def _write(path, pixels, **kwargs):
    with rasterio.open(path, 'w', driver=kwargs.pop('driver', 'GTiff'),
                       width=pixels.shape[2], height=pixels.shape[1],
                       count=pixels.shape[0], dtype=pixels.dtype,
                       **kwargs) as dst:
        dst.write(pixels)
    return str(path)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server of ``tmp_path``; ``.hits`` lists its requests."""
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

        def send_head(self):
            hits.append(self.path)
            return super().send_head()

    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(Handler, directory=tmp_path))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.hits = hits
    httpd.url = f'http://127.0.0.1:{httpd.server_address[1]}'
    yield httpd
    httpd.shutdown()


# ------------------------------------------------------------- formats --


def test_formats_are_told_by_content_not_by_name(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (3, 16, 16),
                                               dtype=np.uint8)
    png = str(tmp_path / 'really_a_png.tif')
    cv2.imwrite(str(tmp_path / 'x.png'), pixels.transpose(1, 2, 0))
    shutil.move(str(tmp_path / 'x.png'), png)
    with open_raster(png) as ds:
        assert (ds.format, ds.driver) == ('PNG', 'PNG')
        np.testing.assert_array_equal(ds.read()[::-1], pixels)
    archive = hr.zip_of(str(tmp_path / 'a'), png)
    shutil.move(archive, str(tmp_path / 'zip.tif'))
    empty = tmp_path / 'empty.tif'
    empty.write_bytes(b'')
    for path, found in ((tmp_path / 'zip.tif', 'a ZIP archive'),
                        (empty, 'an empty file')):
        with pytest.raises(UnsupportedRasterError) as info:
            open_raster(str(path), what='scene')
        assert str(path) in str(info.value)
        assert f'content is {found}' in str(info.value)
    assert sniff_format(b'<?xml version="1.0"?>\n<VRTDataset>') == 'GDAL VRT'
    assert 'GeoTIFF' in allowed_formats() and 'GDAL VRT' not in \
        allowed_formats()


def test_jpeg2000_when_the_wheel_has_the_driver(tmp_path):
    if 'JPEG 2000' not in allowed_formats():
        pytest.skip('this rasterio wheel has no JP2OpenJPEG driver')
    pixels = np.random.default_rng(1).integers(0, 255, (3, 32, 32),
                                               dtype=np.uint8)
    path = _write(tmp_path / 'x.jp2', pixels, driver='JP2OpenJPEG',
                  QUALITY=100, REVERSIBLE=True)
    with open_raster(path) as ds:
        assert ds.format == 'JPEG 2000'
        np.testing.assert_array_equal(ds.read(), pixels)


def test_local_files_only(tmp_path):
    for path in ('http://example.com/scene.tif', '/vsizip/a.zip/b.tif',
                 '/vsicurl/http://127.0.0.1:1/x.tif',
                 'HDF5:"scene.h5"://band'):
        with pytest.raises(UnsupportedRasterError, match='local files only'):
            open_raster(path)
    with pytest.raises(FileNotFoundError, match='nope.tif'):
        open_raster(str(tmp_path / 'nope.tif'))
    with pytest.raises(IsADirectoryError):
        open_raster(str(tmp_path))


# ---------------------------------------------------------------- VRTs --


def test_vrt_upload_reads_nothing_of_the_file_it_names(hostile):
    path, secret = hostile['vrt_raw'], hostile['secret_bytes']
    with rasterio.open(path) as ds:  # the attack, on plain rasterio
        leaked = ds.read().transpose(1, 2, 0).tobytes()
    assert leaked.startswith(hr.SECRET_MARK) and leaked == secret
    with pytest.raises(UnsupportedRasterError) as info:
        open_raster(path, what='image')
    message = str(info.value)
    assert path in message and 'GDAL VRT' in message
    assert 'allow-vrt' in message and hr.SECRET_MARK.decode() not in message
    with pytest.raises(UnsupportedRasterError,
                       match='VRTRawRasterBand') as info:
        open_raster(path, allow_vrt=True)  # not even when asked
    assert hr.SECRET_MARK.decode() not in str(info.value)


def test_vrt_mosaic_is_read_only_on_request(hostile):
    path = hostile['vrt_image']
    with pytest.raises(UnsupportedRasterError, match='GDAL VRT'):
        open_raster(path)
    with open_raster(path, allow_vrt=True) as ds:
        assert ds.format == 'GDAL VRT'
        np.testing.assert_array_equal(ds.read(), hostile['secret_pixels'])


def test_vrt_sources_behind_vsi_paths_are_refused(tmp_path, hostile,
                                                  server):
    shutil.copy(hostile['secret_image'], tmp_path / 'remote.tif')
    archive = hr.zip_of(str(tmp_path / 'secret'), hostile['secret_image'])
    sources = {
        'zip': f'/vsizip/{archive}/secret.tif',
        'curl': f'/vsicurl/{server.url}/remote.tif',
        'chained': f'GTIFF_DIR:1:/vsizip/{archive}/secret.tif',
    }
    for name, source in sources.items():
        path = hr.write_text(str(tmp_path / f'{name}.tif'),
                             hr.vrt_sources(source))
        if name == 'zip':  # the attack, on plain rasterio
            with rasterio.open(path) as ds:
                np.testing.assert_array_equal(ds.read(),
                                              hostile['secret_pixels'])
        with pytest.raises(UnsupportedRasterError) as info:
            open_raster(path, allow_vrt=True)
        assert path in str(info.value) and '/vsi' in str(info.value)
    assert server.hits == []
    # a source that is not a raster mmrrsis opens
    text = hr.write_text(str(tmp_path / 'text.tif'),
                         hr.vrt_sources(hostile['secret']))
    with pytest.raises(UnsupportedRasterError, match='secret.bin is unknown'):
        open_raster(text, allow_vrt=True)


def test_no_network_in_the_gdal_environment(tmp_path, hostile, server):
    shutil.copy(hostile['secret_image'], tmp_path / 'remote.tif')
    path = hr.write_text(
        str(tmp_path / 'curl.vrt'),
        hr.vrt_sources(f'/vsicurl/{server.url}/remote.tif'))
    with gdal_env(), pytest.raises(rasterio.errors.RasterioIOError):
        with rasterio.open(path) as ds:  # GDAL itself, not our checks
            ds.read()
    assert server.hits == []
    with rasterio.open(path) as ds:  # the fixture reaches the server
        np.testing.assert_array_equal(ds.read(), hostile['secret_pixels'])
    assert server.hits


def test_python_in_a_vrt_never_runs(tmp_path, hostile):
    marker = tmp_path / 'PYTHON_RAN'
    path = hr.write_text(str(tmp_path / 'python.tif'),
                         hr.vrt_python(str(marker), hostile['scene']))
    with pytest.raises(UnsupportedRasterError, match='VRTDerivedRasterBand'):
        open_raster(path, allow_vrt=True)
    with gdal_env(), pytest.raises(rasterio.errors.RasterioIOError):
        with rasterio.open(path) as ds:  # GDAL itself, not our checks
            ds.read()
    assert not marker.exists()
    with rasterio.Env(GDAL_VRT_ENABLE_PYTHON='YES'):
        with rasterio.open(path) as ds:  # the fixture runs its code
            assert ds.read(1)[0, 0] == 42
    assert marker.exists()


# ---------------------------------------------------------- side files --


def test_sidecar_overviews_and_pam_are_not_read(tmp_path, hostile):
    public = np.full((3, 64, 64), 10, np.uint8)
    path = _write(tmp_path / 'x.tif', public)
    # an external overview holding the secret image
    shutil.copy(hostile['secret_image'], path + '.ovr')
    half = hostile['secret_pixels'][:, ::2, ::2]
    _write(path + '.ovr', np.ascontiguousarray(half))
    with rasterio.open(path) as ds:  # plain rasterio uses it
        assert ds.overviews(1) == [2]
        np.testing.assert_array_equal(ds.read(out_shape=(3, 32, 32)), half)
    with open_raster(path) as ds:
        assert ds.overviews(1) == []
        assert (ds.read(out_shape=(3, 32, 32)) == 10).all()
    os.remove(path + '.ovr')
    # a PAM .aux.xml that moves the image and makes it nodata
    hr.write_text(path + '.aux.xml', (
        '<PAMDataset><GeoTransform>100, 2, 0, 200, 0, -2</GeoTransform>'
        '<Metadata><MDI key="FROM">pam</MDI></Metadata><PAMRasterBand '
        'band="1"><NoDataValue>10</NoDataValue></PAMRasterBand>'
        '</PAMDataset>'))
    with rasterio.open(path) as ds:
        assert ds.nodata == 10 and ds.tags() == {'FROM': 'pam'}
    with open_raster(path) as ds:
        assert ds.nodata is None and ds.tags() == {}
        assert ds.transform.c == 0 and (ds.dataset_mask() == 255).all()
    assert sorted(os.listdir(tmp_path)) == ['x.tif', 'x.tif.aux.xml']


# ------------------------------------------------------- decode errors --


def test_damaged_geotiff_names_file_band_and_window(hostile):
    path, (r0, r1), (c0, c1) = (hostile['damaged'],
                                *hostile['damaged_block'].values())
    with rasterio.open(hostile['scene']) as ds:
        clean = ds.read()
    with open_raster(path, what='scene') as ds:
        # a window away from the damaged block reads as before
        far = (0, 64) if r0 >= 64 else (300, 320)
        window = (far, (0, 64)) if c0 >= 64 else (far, (256, 320))
        np.testing.assert_array_equal(
            ds.read(window=window),
            clean[:, window[0][0]:window[0][1], window[1][0]:window[1][1]])
        with pytest.raises(RasterDecodeError) as info:
            ds.read(window=((r0, r0 + 10), (c0, c0 + 10)))
    message = str(info.value)
    assert f'the scene {path}' in message and 'band 1' in message
    assert f'rows {r0}-{r0 + 9}, columns {c0}-{c0 + 9}' in message
    assert f'rows {r0}-{r1}, columns {c0}-{c1}' in message  # the block
    assert 'damaged' in message and 'See previous' not in message
    with open_raster(hostile['truncated']) as ds, pytest.raises(
            RasterDecodeError, match='truncated') as info:
        ds.read()
    assert hostile['truncated'] in str(info.value)
    assert 'See previous' not in str(info.value)


def test_decode_warnings_are_errors(tmp_path):
    pixels = np.random.default_rng(2).integers(0, 255, (3, 128, 128),
                                               dtype=np.uint8)
    path = _write(tmp_path / 'x.jpg', pixels, driver='JPEG')
    data = bytearray(open(path, 'rb').read())
    data[len(data) // 2:len(data) // 2 + 300] = bytes(300)
    open(path, 'wb').write(bytes(data))
    with rasterio.open(path) as ds:  # plain rasterio: a logged warning
        ds.read()
    with open_raster(path) as ds, pytest.raises(RasterDecodeError,
                                                match='libjpeg') as info:
        ds.read()
    assert path in str(info.value) and 'bands 1,2,3' in str(info.value)
    # GDAL's warnings of this thread are collected
    with gdal_warnings() as warned:
        rasterio.open(str(tmp_path / 'x.jpg'), NO_SUCH_OPTION='1').close()
    assert any('NO_SUCH_OPTION' in w for w in warned)


def test_loader_paths_raise_naming_file_and_block(hostile):
    (r0, r1), (c0, c1) = hostile['damaged_block'].values()
    for loader in (LoadRSImageFromFile(),  # fast path: mmcv decodes
                   LoadRSImageFromFile(bands=(1, 2, 3), scale='minmax',
                                       min_value=0, max_value=255)):
        with pytest.raises(RasterDecodeError) as info:
            loader(dict(img_path=hostile['damaged']))
        message = str(info.value)
        assert hostile['damaged'] in message
        assert f'rows {r0}-{r1}, columns {c0}-{c1}' in message
        assert loader(dict(img_path=hostile['scene']))['img'].shape == (
            320, 320, 3)
    with pytest.raises(UnsupportedRasterError, match='GDAL VRT'):
        LoadRSImageFromFile()(dict(img_path=hostile['vrt_raw']))


# ----------------------------------------------------------- size rule --


def test_one_read_is_limited(hostile):
    with pytest.raises(RasterSizeError) as info:
        LoadRSImageFromFile()(dict(img_path=hostile['sparse']))
    assert info.value.pixels == 5_000_000 * 64
    assert info.value.limit == MAX_READ_PIXELS
    assert 'size rule' in str(info.value) and hostile['sparse'] in str(
        info.value)
    with open_raster(hostile['sparse'], max_read_pixels=10_000) as ds:
        assert ds.read(window=((0, 100), (0, 64))).shape == (3, 100, 64)
        with pytest.raises(RasterSizeError, match='12,800 pixels'):
            ds.read(window=((0, 200), (0, 64)))


def test_scene_size_rule():
    rows = [(0, 64), (42, 106), (84, 148)]
    cols = [(0, 64)]
    assert check_scene_size('s.tif', rows, cols, 2, 2, 148) == 3 * 64 * 64 * 2
    with pytest.raises(RasterSizeError) as info:
        check_scene_size('s.tif', rows, cols, 2, 2, 148, max_pixels=20_000)
    message = str(info.value)
    assert '3 windows' in message and '24,576 pixels to compute' in message
    assert 'windows x window pixels x expressions' in message
    assert '--max-pixels to at least 24,576' in message
    assert check_scene_size('s.tif', rows, cols, 2, 2, 148,
                            max_pixels=None) == 24_576
    # a scene 5,000,000 px wide needs a row buffer above one read
    wide = [(0, 5_000_000)]
    with pytest.raises(RasterSizeError, match='row buffer'):
        check_scene_size('w.tif', [(0, 64)], wide, 1, 2, 64,
                         max_pixels=None)
