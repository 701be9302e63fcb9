"""tools/infer_scene.py and SceneInferencer at the boundaries: a VRT named
.tif is refused without --allow-vrt and read with it, a damaged or
truncated GeoTIFF stops the run naming file, band and window, and a scene
of absurd shape is refused before any pixel is read, naming the size
rule."""
import os.path as osp
import time

import numpy as np
import pytest
import rasterio
from repo_tools import ROOT, load_tool

from mmrrsis.apis import SceneInferencer
from mmrrsis.datasets.raster_io import RasterSizeError

LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/infer_scene.py')


def _masks(report):
    out = []
    for item in report['summary']['expressions']:
        with rasterio.open(item['mask']) as src:
            out.append(src.read(1))
    return out


def test_vrt_only_with_allow_vrt(tool, hostile, lgce_tiny_ckpt, tmp_path):
    args = ['car', 'tree', LGCE_TINY, lgce_tiny_ckpt, '--quiet']
    with pytest.raises(SystemExit) as info:
        tool.main([hostile['vrt_image'], *args, '--out-dir',
                   str(tmp_path / 'refused')])
    message = str(info.value.code)
    assert message.startswith('error: ') and hostile['vrt_image'] in message
    assert 'GDAL VRT' in message and '--allow-vrt' in message
    mosaic = tool.main([hostile['vrt_image'], *args, '--allow-vrt',
                        '--out-dir', str(tmp_path / 'vrt')])
    direct = tool.main([hostile['secret_image'], *args, '--out-dir',
                        str(tmp_path / 'tif')])
    for a, b in zip(_masks(mosaic), _masks(direct)):
        np.testing.assert_array_equal(a, b)
    # a VRT that reads raw bytes is refused even with --allow-vrt
    with pytest.raises(SystemExit, match='error: .*VRTRawRasterBand'):
        tool.main([hostile['vrt_raw'], *args, '--allow-vrt', '--out-dir',
                   str(tmp_path / 'raw')])


def test_damaged_scene_stops_the_run_naming_the_window(
        tool, hostile, lgce_tiny_ckpt, tmp_path):
    (r0, r1), (c0, c1) = hostile['damaged_block'].values()
    args = ['car', LGCE_TINY, lgce_tiny_ckpt, '--quiet', '--no-vectors',
            '--no-overview']
    with pytest.raises(SystemExit) as info:
        tool.main([hostile['damaged'], *args, '--out-dir',
                   str(tmp_path / 'damaged')])
    message = str(info.value.code)
    assert message.startswith('error: Cannot decode the scene ')
    assert hostile['damaged'] in message and 'band 1' in message
    assert f'rows {r0}-{r1}, columns {c0}-{c1}' in message
    assert message.count('rows') == 2  # the window read and the block
    with pytest.raises(SystemExit, match=r'error: .*truncated') as info:
        tool.main([hostile['truncated'], *args, '--out-dir',
                   str(tmp_path / 'truncated')])
    assert hostile['truncated'] in str(info.value.code)
    assert 'See previous' not in str(info.value.code)


def test_absurd_shape_is_refused_before_reading(tool, hostile,
                                                lgce_tiny_ckpt, tmp_path):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as info:
        tool.main([hostile['sparse'], 'car', LGCE_TINY, lgce_tiny_ckpt,
                   '--quiet', '--out-dir', str(tmp_path / 'out')])
    seconds = time.perf_counter() - start
    message = str(info.value.code)
    assert 'size rule' in message and '119,048 windows' in message
    assert '487,620,608 pixels to compute' in message
    assert '--max-pixels to at least 487,620,608' in message
    print(f'refused in {seconds:.1f} s')  # reported, not asserted
    # the API: the same rule, and the limit is the caller's
    inferencer = SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu')
    with pytest.raises(RasterSizeError) as info:
        inferencer(hostile['scene'], ['car', 'tree'], str(tmp_path / 'x'),
                   max_pixels=100_000)
    assert info.value.pixels == 8 * 8 * 64 * 64 * 2  # 320 px: 8 x 8
    result = inferencer(hostile['scene'], 'car', str(tmp_path / 'y'),
                        max_pixels=8 * 8 * 64 * 64, vectors=False,
                        overview=False, show_progress=False)
    assert result.summary['windows_run'] == 64
