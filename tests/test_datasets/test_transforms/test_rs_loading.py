"""LoadRSImageFromFile: the same as LoadImageFromFile on 8-bit RGB files,
explicit band selection and scaling for everything else."""
import sys

import cv2
import numpy as np
import pytest
import rasterio
from mmcv.transforms import LoadImageFromFile

from mmrrsis.datasets.band_scaling import BandScalingError
from mmrrsis.datasets.transforms import LoadRSImageFromFile
from mmrrsis.datasets.transforms.rs_loading import header_kind
from mmrrsis.registry import TRANSFORMS


def _image(seed=0, size=(40, 56)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size + (3, ), dtype=np.uint8)


def _write_tif(path, data, nodata=None, **kwargs):
    count, height, width = data.shape
    with rasterio.open(path, 'w', driver='GTiff', width=width, height=height,
                       count=count, dtype=data.dtype, nodata=nodata,
                       **kwargs) as dst:
        dst.write(data)
    return str(path)


@pytest.mark.parametrize('suffix', ['.png', '.tif', '.jpg'])
def test_plain_8bit_rgb_equals_load_image_from_file(tmp_path, suffix):
    path = str(tmp_path / f'img{suffix}')
    cv2.imwrite(path, _image())
    expected = LoadImageFromFile()(dict(img_path=path))
    got = LoadRSImageFromFile()(dict(img_path=path))
    assert got['img'].dtype == np.uint8
    np.testing.assert_array_equal(got['img'], expected['img'])
    assert got['img_shape'] == expected['img_shape'] == (40, 56)
    assert got['ori_shape'] == expected['ori_shape']


def test_rasterio_written_geotiff_equals_load_image_from_file(tmp_path):
    """A tiled, compressed, georeferenced RGB GeoTIFF (the layout of
    aerial deliveries) gives the BGR values mmcv gives."""
    rgb = _image(1, (80, 72))
    path = _write_tif(tmp_path / 'geo.tif', rgb.transpose(2, 0, 1),
                      tiled=True, blockxsize=16, blockysize=16,
                      compress='deflate', crs='EPSG:32632',
                      transform=rasterio.transform.from_origin(
                          5e5, 5e6, .13, .13))
    got = LoadRSImageFromFile()(dict(img_path=path))['img']
    np.testing.assert_array_equal(got, rgb[..., ::-1])
    expected = LoadImageFromFile()(dict(img_path=path))['img']
    np.testing.assert_array_equal(got, expected)


def test_uint16_without_scaling_raises_with_file_dtype_bands(tmp_path):
    data = np.full((4, 8, 8), 1000, np.uint16)
    path = _write_tif(tmp_path / 'u16.tif', data)
    with pytest.raises(BandScalingError) as info:
        LoadRSImageFromFile()(dict(img_path=path))
    msg = str(info.value)
    assert path in msg and 'uint16' in msg and '4 band(s)' in msg
    assert "scale='percentile'" in msg and 'bands=(3, 2, 1)' in msg


def test_bands_and_percentile_stretch_per_image(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.integers(100, 4000, (4, 30, 20)).astype(np.uint16)
    path = _write_tif(tmp_path / 'bgrn.tif', data)
    t = LoadRSImageFromFile(bands=(3, 2, 1), scale='percentile')
    img = t(dict(img_path=path))['img']
    assert img.shape == (30, 20, 3) and img.dtype == np.uint8
    # BGR output: channel 0 is blue = band 1, channel 2 red = band 3
    for channel, band in ((0, 1), (1, 2), (2, 3)):
        x = data[band - 1].astype(np.float64)
        lo, hi = np.percentile(x, (2, 98))
        expected = np.clip(np.rint((x - lo) / (hi - lo) * 255), 0, 255)
        assert np.abs(img[..., channel] - expected).max() <= 1
        assert (img[..., channel] == 0).mean() >= 0.02
        assert (img[..., channel] == 255).mean() >= 0.02


def test_percentiles_skip_nodata(tmp_path):
    data = np.full((3, 10, 10), 500, np.uint16)
    data[:, :, 5:] = 1500
    data[:, 0, :] = 0  # nodata row
    path = _write_tif(tmp_path / 'nd.tif', data, nodata=0)
    img = LoadRSImageFromFile(scale='percentile', percentiles=(0, 100))(
        dict(img_path=path))['img']
    assert (img[1:, :5] == 0).all() and (img[1:, 5:] == 255).all()


def test_fixed_minmax(tmp_path):
    data = np.array([[[0, 2047, 4095, 5000]]] * 3, np.uint16)
    path = _write_tif(tmp_path / 'mm.tif', data)
    img = LoadRSImageFromFile(scale='minmax', min_value=0, max_value=4095)(
        dict(img_path=path))['img']
    np.testing.assert_array_equal(img[0, :, 0], [0, 127, 255, 255])
    per_band = LoadRSImageFromFile(
        scale='minmax', min_value=[0, 0, 2047], max_value=[4095, 2047,
                                                          4095])(
            dict(img_path=path))['img']
    # BGR: channel 0 is the third band's range
    np.testing.assert_array_equal(per_band[0, :, 0], [0, 0, 255, 255])
    np.testing.assert_array_equal(per_band[0, :, 1], [0, 255, 255, 255])


def test_four_band_uint8_needs_bands_and_grey_is_expanded(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (4, 6, 6), np.uint8)
    path = _write_tif(tmp_path / 'rgba.tif', rgba)
    with pytest.raises(BandScalingError, match='4 band'):
        LoadRSImageFromFile()(dict(img_path=path))
    img = LoadRSImageFromFile(bands=(1, 2, 3))(dict(img_path=path))['img']
    np.testing.assert_array_equal(img, rgba[:3].transpose(1, 2, 0)[..., ::-1])
    # an 8-bit grey file (COCO has some JPEGs so) is expanded to 3 bands,
    # as LAVT's convert('RGB'); the same pixels as bands=(1, 1, 1)
    for name in ('grey.png', 'grey.tif', 'grey.jpg'):
        grey = str(tmp_path / name)
        cv2.imwrite(grey, rgba[0])
        stored = cv2.imread(grey, cv2.IMREAD_UNCHANGED)
        img = LoadRSImageFromFile()(dict(img_path=grey))['img']
        assert img.shape == (6, 6, 3) and (img == stored[..., None]).all()
    img = LoadRSImageFromFile(bands=(1, 1, 1))(dict(img_path=grey))['img']
    assert (img == stored[..., None]).all()
    # 16-bit grey is still refused until scaled
    grey16 = str(tmp_path / 'grey16.png')
    cv2.imwrite(grey16, rgba[0].astype(np.uint16) * 200)
    with pytest.raises(BandScalingError, match=r'1 band'):
        LoadRSImageFromFile()(dict(img_path=grey16))


def test_exif_orientation_is_never_applied(tmp_path):
    """A JPEG with Orientation=6: OpenCV (and mmcv's color flag) rotate it
    to 640x480 against its 480x640 mask; the stored pixels are read."""
    from PIL import Image
    stored = np.zeros((12, 20, 3), np.uint8)
    stored[:4, :5] = (250, 20, 20)  # top-left corner, RGB
    path = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path, exif=exif, quality=100)
    assert cv2.imread(path).shape[:2] == (20, 12)  # what OpenCV does
    img = LoadRSImageFromFile()(dict(img_path=path))['img']
    assert img.shape == (12, 20, 3)
    assert img[1, 1, 2] > 200 and img[1, 1, 0] < 60  # BGR: red at (1, 1)


def test_bad_files_are_named(tmp_path):
    t = LoadRSImageFromFile()
    with pytest.raises(FileNotFoundError, match='nope.tif'):
        t(dict(img_path=str(tmp_path / 'nope.tif')))
    with pytest.raises(IsADirectoryError, match='is a directory'):
        t(dict(img_path=str(tmp_path)))
    empty = tmp_path / 'empty.tif'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.tif.*0 bytes'):
        t(dict(img_path=str(empty)))
    broken = tmp_path / 'broken.tif'
    broken.write_bytes(b'II*\x00not a tiff')
    with pytest.raises(ValueError, match='broken.tif'):
        t(dict(img_path=str(broken)))


def test_settings_are_checked():
    with pytest.raises(BandScalingError, match='three 1-based'):
        LoadRSImageFromFile(bands=(0, 1, 2))
    with pytest.raises(BandScalingError, match='scale must be'):
        LoadRSImageFromFile(scale='log')
    with pytest.raises(BandScalingError, match='min_value and max_value'):
        LoadRSImageFromFile(scale='minmax', min_value=0)
    with pytest.raises(BandScalingError, match='percentiles'):
        LoadRSImageFromFile(scale='percentile', percentiles=(98, 2))


def test_registered_repr_and_float32(tmp_path):
    path = str(tmp_path / 'img.png')
    cv2.imwrite(path, _image())
    t = TRANSFORMS.build(
        dict(type='LoadRSImageFromFile', bands=(3, 2, 1), scale='percentile',
             to_float32=True))
    assert isinstance(t, LoadRSImageFromFile)
    assert repr(t).startswith('LoadRSImageFromFile(bands=(3, 2, 1), '
                              "scale='percentile', percentiles=(2.0, 98.0)")
    img = t(dict(img_path=path))['img']
    assert img.dtype == np.float32 and img.max() == 255 and img.min() == 0


# ------------------------------------------------ fast path, no rasterio --
def test_header_kind_tells_8bit_rgb_and_grey_from_the_rest(tmp_path):
    rgb = _image(2, (16, 16))
    cases = {}
    for name, data in (('rgb.png', rgb), ('rgb.tif', rgb), ('rgb.jpg', rgb),
                       ('u16.png', rgb.astype(np.uint16) * 256),
                       ('u16.tif', rgb.astype(np.uint16) * 256),
                       ('grey.png', rgb[..., 0]),
                       ('grey.tif', rgb[..., 0]),
                       ('grey16.png', rgb[..., 0].astype(np.uint16) * 256),
                       ('grey16.tif', rgb[..., 0].astype(np.uint16) * 256)):
        path = str(tmp_path / name)
        cv2.imwrite(path, data)
        cases[name] = header_kind(open(path, 'rb').read())
    planar = _write_tif(tmp_path / 'planar.tif', rgb.transpose(2, 0, 1),
                        interleave='band')
    cases['planar.tif'] = header_kind(open(planar, 'rb').read())
    four = _write_tif(tmp_path / 'four.tif', np.concatenate(
        [rgb.transpose(2, 0, 1), rgb[None, ..., 0]]))
    cases['four.tif'] = header_kind(open(four, 'rb').read())
    assert {k for k, (fast, _) in cases.items() if fast} == {
        'rgb.png', 'rgb.tif', 'rgb.jpg', 'planar.tif', 'grey.png',
        'grey.tif'}
    assert cases['u16.png'][1] == 'PNG RGB'  # Pillow's mode hides 16 bits
    assert cases['grey.png'][1] == 'PNG L'
    assert header_kind(b'not an image')[1].startswith('a file Pillow cannot')


def test_16bit_png_is_not_read_as_its_top_8_bits(tmp_path):
    """mmcv's LoadImageFromFile keeps the top 8 bits of a 16-bit PNG;
    LoadRSImageFromFile refuses it unless a scaling is set."""
    rgb16 = _image(3).astype(np.uint16) * 16  # 12-bit values
    path = str(tmp_path / 'img16.png')
    cv2.imwrite(path, rgb16)
    with pytest.raises(BandScalingError, match='img16.png is uint16'):
        LoadRSImageFromFile()(dict(img_path=path))
    img = LoadRSImageFromFile(scale='minmax', min_value=0,
                              max_value=255 * 16)(dict(img_path=path))['img']
    np.testing.assert_array_equal(img, _image(3))


def test_planar_and_zstd_geotiffs(tmp_path):
    """A band-interleaved TIFF takes the fast path; a ZSTD-compressed one,
    which OpenCV cannot decode, is read by GDAL instead."""
    rgb = _image(4, (24, 40))
    planar = _write_tif(tmp_path / 'planar.tif', rgb.transpose(2, 0, 1),
                        interleave='band')
    np.testing.assert_array_equal(
        LoadRSImageFromFile()(dict(img_path=planar))['img'],
        LoadImageFromFile()(dict(img_path=planar))['img'])
    zstd = _write_tif(tmp_path / 'zstd.tif', rgb.transpose(2, 0, 1),
                      compress='zstd')
    np.testing.assert_array_equal(
        LoadRSImageFromFile()(dict(img_path=zstd))['img'], rgb[..., ::-1])


def test_without_rasterio_8bit_rgb_loads_and_the_rest_says_install(
        tmp_path, monkeypatch):
    paths = {}
    for suffix in ('.png', '.tif', '.jpg'):
        paths[suffix] = str(tmp_path / f'img{suffix}')
        cv2.imwrite(paths[suffix], _image(5))
    u16 = _write_tif(tmp_path / 'u16.tif', np.ones((4, 8, 8), np.uint16))
    grey = str(tmp_path / 'grey16.png')
    cv2.imwrite(grey, _image(5)[..., 0].astype(np.uint16) * 256)
    grey8 = str(tmp_path / 'grey.png')
    cv2.imwrite(grey8, _image(5)[..., 0])
    monkeypatch.setitem(sys.modules, 'rasterio', None)  # not installed
    with pytest.raises(ImportError):
        import rasterio  # noqa: F401
    for path in paths.values():
        np.testing.assert_array_equal(
            LoadRSImageFromFile()(dict(img_path=path))['img'],
            LoadImageFromFile()(dict(img_path=path))['img'])
    assert LoadRSImageFromFile()(dict(img_path=grey8))['img'].shape == (
        *_image(5).shape[:2], 3)  # 8-bit grey needs no rasterio either
    for path, kind in ((u16, 'Pillow cannot read'), (grey, 'PNG I')):
        with pytest.raises(ImportError) as info:
            LoadRSImageFromFile()(dict(img_path=path))
        msg = str(info.value)
        assert path in msg and kind in msg and 'mmrrsis[geo]' in msg
    with pytest.raises(ImportError, match='select bands or scale.*geo'):
        LoadRSImageFromFile(scale='percentile')(dict(img_path=paths['.png']))


def test_mmrrsis_imports_and_loads_8bit_without_the_geo_extra(tmp_path):
    """rasterio, shapely and pyogrio are the ``geo`` extra: without them
    mmrrsis (the inference API included) imports and 8-bit RGB files
    load; the uint16 file names the extra."""
    import subprocess
    png = str(tmp_path / 'img.png')
    cv2.imwrite(png, _image(6))
    u16 = _write_tif(tmp_path / 'u16.tif', np.ones((4, 8, 8), np.uint16))
    script = f'''
import sys
for name in ('rasterio', 'shapely', 'pyogrio'):
    sys.modules[name] = None
import mmrrsis.apis
from mmrrsis.datasets.transforms import LoadRSImageFromFile
print(mmrrsis.apis.load_image({png!r}).shape)
try:
    LoadRSImageFromFile()(dict(img_path={u16!r}))
except ImportError as e:
    print('ImportError', e)
'''
    out = subprocess.run([sys.executable, '-c', script], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == '(40, 56, 3)'
    assert lines[1].startswith('ImportError') and 'mmrrsis[geo]' in lines[1]
