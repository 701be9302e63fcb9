"""Fixtures shared by every test folder: checkpoints with a payload, and
small datasets (generated ones and copies written in the published
formats by ``published_formats.py``)."""
import os
import os.path as osp

import published_formats  # tests/ is on sys.path (rootdir conftest)
import pytest
import torch

from mmrrsis.datasets.synthetic import (
    make_synthetic_refer,
    make_synthetic_refsegrs,
)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs', '_base_', 'datasets')


class _Payload:
    """Unpickling this calls ``open(marker, 'w')``: code named by the file.
    """

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def payload_checkpoint(tmp_path):
    """Write checkpoints that create a marker file if they are unpickled.

    ``write(path, checkpoint=None, key='meta')`` saves ``checkpoint`` (a
    dict; empty by default) with a payload object added under
    ``checkpoint[key]['note']`` and returns the path; ``write.marker`` is
    the file the payload would create.
    """
    marker = tmp_path / 'PAYLOAD_RAN'

    def write(path, checkpoint=None, key='meta'):
        checkpoint = dict(checkpoint or {})
        holder = dict(checkpoint.get(key) or {})
        holder['note'] = _Payload(str(marker))
        checkpoint[key] = holder
        torch.save(checkpoint, str(path))
        return str(path)

    write.marker = marker
    return write


# ------------------------------------------------------- datasets --

@pytest.fixture(scope='session')
def configs_dir():
    """configs/_base_/datasets of the repository."""
    return CONFIGS


@pytest.fixture(scope='session')
def refsegrs_root(tmp_path_factory):
    """A 64x64 RefSegRS-layout set (6 images, about 20 samples)."""
    root = str(tmp_path_factory.mktemp('refsegrs'))
    summary = make_synthetic_refsegrs(
        root, num_images=6, size=64, seed=3, show_progress=False)
    return root, summary


@pytest.fixture(scope='session')
def refer_root(tmp_path_factory):
    """A 64x64 refer-layout set (RRSIS-D names), every encoding present."""
    root = str(tmp_path_factory.mktemp('refer'))
    summary = make_synthetic_refer(
        root, num_images=8, size=64, seed=1, encoding='mixed',
        overlap_ratio=.6, show_progress=False)
    return root, summary


# ------------------------------------------------ published-format copies --
# written by published_formats.py (the datasets' own formats), not by the
# generator; function-scoped users copy them before damaging them


@pytest.fixture(scope='session')
def rrsisd_copy(tmp_path_factory):
    """An RRSIS-D copy with the size quirk (see published_formats.py)."""
    root = str(tmp_path_factory.mktemp('rrsisd_published'))
    return root, published_formats.write_rrsisd(root)


@pytest.fixture(scope='session')
def refcoco_copy(tmp_path_factory):
    """A RefCOCO (UNC) copy with testA/testB and overlapping polygons."""
    root = str(tmp_path_factory.mktemp('refcoco_published'))
    return root, published_formats.write_refcoco(root)


@pytest.fixture(scope='session')
def refsegrs_copy(tmp_path_factory):
    """A RefSegRS copy: soft-edged 0/255 TIFFs, LZW and raw, CRLF."""
    root = str(tmp_path_factory.mktemp('refsegrs_published'))
    return root, published_formats.write_refsegrs(root)


#: The uint16 copy's values: OFFSET + GAIN * the 8-bit value (12-bit data)
U16_OFFSET, U16_GAIN = 100, 15


@pytest.fixture(scope='session')
def refsegrs_uint16_copy(tmp_path_factory, refsegrs_copy):
    """The RefSegRS copy with every tile rewritten as a uint16 blue, green,
    red, NIR GeoTIFF (``U16_OFFSET + U16_GAIN * value``; NIR = green):
    (8-bit root, uint16 root, the ``min_value`` / ``max_value`` that map
    it back)."""
    import shutil

    import cv2
    import numpy as np
    import rasterio
    root = str(tmp_path_factory.mktemp('refsegrs_uint16') / 'copy')
    shutil.copytree(refsegrs_copy[0], root)
    for name in os.listdir(osp.join(root, 'images')):
        path = osp.join(root, 'images', name)
        bgr = cv2.imread(path)
        bgrn = np.concatenate([bgr, bgr[..., 1:2]], -1).astype(np.uint16)
        data = (U16_OFFSET + U16_GAIN * bgrn).transpose(2, 0, 1)
        with rasterio.open(
                path, 'w', driver='GTiff', width=data.shape[2],
                height=data.shape[1], count=4, dtype='uint16',
                crs='EPSG:32632', transform=rasterio.transform.from_origin(
                    5e5, 5e6, .13, .13)) as dst:
            dst.write(data)
    return refsegrs_copy[0], root, dict(
        min_value=U16_OFFSET, max_value=U16_OFFSET + 255 * U16_GAIN)


# ------------------------------------------------------ hostile rasters --
# written by hostile_rasters.py: what the raster opener must refuse


@pytest.fixture(scope='session')
def hostile(tmp_path_factory):
    """Hostile and damaged rasters (see hostile_rasters.py), as a dict:
    ``secret`` (a private file: ``secret_bytes``), ``secret_image`` (a
    private GeoTIFF: ``secret_pixels``), ``vrt_raw`` and ``vrt_image``
    (VRTs named .tif reading them), ``scene`` (a generated 320 x 320 UTM
    GeoTIFF, DEFLATE, 256 px blocks), ``damaged`` (3,000 bytes of it
    overwritten; ``damaged_block``: its rows and cols), ``truncated`` and
    ``sparse`` (5,000,000 x 64 pixels declared)."""
    import hostile_rasters as hr

    from mmrrsis.datasets.synthetic.geo_scene import (
        make_synthetic_geo_scene,
    )
    root = tmp_path_factory.mktemp('hostile')
    out = dict(secret=str(root / 'private' / 'secret.bin'),
               secret_image=str(root / 'private' / 'secret.tif'))
    os.makedirs(root / 'private')
    out['secret_bytes'] = hr.write_secret_bytes(out['secret'])
    out['secret_pixels'] = hr.write_secret_image(out['secret_image'])
    out['vrt_raw'] = hr.write_text(str(root / 'upload_raw.tif'),
                                   hr.vrt_raw_band(out['secret']))
    out['vrt_image'] = hr.write_text(str(root / 'upload_image.tif'),
                                     hr.vrt_sources(out['secret_image']))
    scene = make_synthetic_geo_scene(
        str(root / 'scene'), tiles=(5, 5), tile_size=64, seed=4,
        texts=('car', ))
    out['scene'] = scene['rgb8']
    out['damaged'] = str(root / 'damaged.tif')
    out['damaged_block'] = hr.damage_middle(out['scene'], out['damaged'])
    out['truncated'] = str(root / 'truncated.tif')
    hr.truncate(out['scene'], out['truncated'])
    out['sparse'] = str(root / 'sparse.tif')
    hr.write_sparse_tiff(out['sparse'])
    return out
