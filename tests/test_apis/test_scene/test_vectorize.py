"""Polygons of mask rasters, read strip by strip (vectorize.py)."""
import cv2
import numpy as np
import rasterio

from mmrrsis.apis.scene import iter_polygons


def test_polygons_join_across_strips(tmp_path):
    """Strip-wise polygonisation gives the same polygons as one strip:
    shapes that cross strip borders (a ring, a U, a diagonal) are merged,
    holes kept."""
    mask = np.zeros((40, 30), np.uint8)
    cv2.circle(mask, (15, 20), 12, 1, 3)  # ring with a hole
    mask[2:38, 2:4] = 1
    mask[36:38, 2:12] = 1
    mask[2:38, 10:12] = 1  # a U
    for i in range(30):
        mask[min(39, i + 5), i] = 1  # 4-disconnected diagonal pixels
    path = str(tmp_path / 'm.tif')
    with rasterio.open(path, 'w', driver='GTiff', width=30, height=40,
                       count=1, dtype='uint8') as dst:
        dst.write(mask, 1)
    whole = list(iter_polygons(path, strip_rows=40))
    for rows in (1, 3, 7):
        parts = list(iter_polygons(path, strip_rows=rows))
        assert sorted(p['pixels'] for p in parts) == sorted(
            p['pixels'] for p in whole)
        key = sorted(round(p['geometry'].area) for p in parts)
        assert key == sorted(round(p['geometry'].area) for p in whole)
        assert sum(p['pixels'] for p in parts) == int(mask.sum())
        assert sum(p['geometry'].area for p in parts) == mask.sum()
    num, _ = cv2.connectedComponents(mask, connectivity=4)
    assert len(whole) == num - 1
