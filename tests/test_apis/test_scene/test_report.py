"""The report stage: areas from the written masks, in the scene's units."""
import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from mmrrsis.apis.scene.report import area_unit, count_targets


def test_area_unit():
    assert area_unit(None) == 'px'
    assert area_unit(CRS.from_epsg(32632)) == 'm^2'
    assert area_unit(CRS.from_epsg(2263)).endswith('^2')  # US feet


def test_count_targets_in_strips(tmp_path):
    mask = np.zeros((50, 40), np.uint8)
    mask[3:30, 5:9] = 1
    mask[40:, :] = 255  # nodata is not target
    path = str(tmp_path / 'm.tif')
    with rasterio.open(path, 'w', driver='GTiff', width=40, height=50,
                       count=1, dtype='uint8', crs='EPSG:32632',
                       transform=from_origin(0, 0, 0.5, 0.5)) as dst:
        dst.write(mask, 1)
    for rows in (1, 7, 1024):
        assert count_targets(path, strip_rows=rows) == 27 * 4
