"""The read stage: opening a raster in one place, its bands guessed from
its colour interpretation, windows of the model grid."""
import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from mmrrsis.apis.scene import SceneSource, inspect_raster, open_raster
from mmrrsis.datasets.band_scaling import BandScaling


def _write(path, count, dtype='uint16', interp=None, names=None):
    data = np.arange(count * 20 * 30, dtype=dtype).reshape(count, 20, 30)
    with rasterio.open(path, 'w', driver='GTiff', width=30, height=20,
                       count=count, dtype=dtype) as dst:
        dst.write(data)
        if interp:
            dst.colorinterp = interp
        for i, name in enumerate(names or []):
            dst.set_band_description(i + 1, name)
    return str(path)


def test_open_raster_names_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        open_raster(str(tmp_path / 'missing.tif'))
    with pytest.raises(IsADirectoryError, match='directory'):
        open_raster(str(tmp_path))
    bad = tmp_path / 'bad.tif'
    bad.write_bytes(b'II*\x00not a tiff')
    with pytest.raises(ValueError, match='bad.tif.*damaged or truncated'):
        open_raster(str(bad))
    # through the raster opener (C4): a VRT only when asked
    vrt = tmp_path / 'mosaic.tif'
    vrt.write_text('<VRTDataset rasterXSize="2" rasterYSize="2">'
                   '</VRTDataset>')
    with pytest.raises(ValueError, match='mosaic.tif.*VRT'):
        open_raster(str(vrt))


def test_inspect_raster_guesses_rgb(tmp_path):
    bgrn = _write(tmp_path / 'a.tif', 4, names=['blue', 'green', 'red',
                                                'nir'])
    info = inspect_raster(bgrn)
    assert info['bands'] == [3, 2, 1] and info['count'] == 4
    assert info['dtype'] == 'uint16' and (info['height'], info['width']) \
        == (20, 30) and not info['georeferenced']
    interp = _write(tmp_path / 'b.tif', 3, 'uint8', interp=[
        ColorInterp.blue, ColorInterp.green, ColorInterp.red])
    assert inspect_raster(interp)['bands'] == [3, 2, 1]
    grey = _write(tmp_path / 'c.tif', 1, 'uint8')
    assert inspect_raster(grey)['bands'] == [1, 1, 1]


def test_windows_scaled_with_one_range(tmp_path):
    path = _write(tmp_path / 'a.tif', 4)
    scaling = BandScaling(bands=(3, 2, 1), scale='minmax', min_value=0,
                          max_value=4 * 600)
    with SceneSource(path, scaling) as source:
        assert (source.height, source.width) == (20, 30)
        rgb, valid = source.read(5, 15, 10, 30)
        assert rgb.shape == (10, 20, 3) and valid.all()
        whole, _ = source.read(0, 20, 0, 30)
    np.testing.assert_array_equal(rgb, whole[5:15, 10:30])
    with pytest.raises(ValueError, match='uint16'):
        SceneSource(path, BandScaling())
