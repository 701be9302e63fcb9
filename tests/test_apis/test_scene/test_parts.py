"""A scene split by rows among processes: each part resumes on its own and
the assembled outputs are byte-identical to one process's (the processes
are simulated in turn; tools/dist_infer_scene.sh runs them for real in
tests/test_tools/test_dist_infer_scene.py)."""
import filecmp
import json
import os.path as osp

import pytest

from mmrrsis.apis import SceneInferencer
from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
TEXTS = ['car', 'tree']


@pytest.fixture(scope='module')
def tall(tmp_path_factory):
    """A 640 x 128 scene: three block rows, so two processes get rows."""
    return make_synthetic_geo_scene(
        str(tmp_path_factory.mktemp('tall')), tiles=(10, 2), tile_size=64)


@pytest.fixture(scope='module')
def inferencer(lgce_tiny_ckpt):
    return SceneInferencer(LGCE_TINY, lgce_tiny_ckpt, device='cpu',
                           crop_size=64, stride=42)


def _call(inferencer, scene, out, **kwargs):
    return inferencer(scene, TEXTS, str(out), show_progress=False,
                      overview=False, gpkg=False, **kwargs)


@pytest.mark.parametrize('gsd', [None, 2.08])
def test_two_processes_write_the_bytes_of_one(inferencer, tall, tmp_path,
                                              gsd):
    one = _call(inferencer, tall['rgb8'], tmp_path / 'one', gsd=gsd)
    assert _call(inferencer, tall['rgb8'], tmp_path / 'two', gsd=gsd,
                 ranks=(1, 2)) is None
    two = _call(inferencer, tall['rgb8'], tmp_path / 'two', gsd=gsd,
                ranks=(0, 2))
    for a, b in zip(one.masks + one.scores, two.masks + two.scores):
        assert filecmp.cmp(a, b, shallow=False), b
    assert open(one.geojson).read() == open(two.geojson).read()
    parts = two.summary['parts']
    assert [p['rows'] for p in parts] == (
        [[0, 256], [256, 640]] if gsd is None else [[0, 256], [256, 320]])
    assert sum(p['windows_run'] for p in parts) >= \
        one.summary['windows_run']
    assert not osp.exists(tmp_path / 'two' / '.scene_rgb8_parts')


def test_each_part_resumes(inferencer, tall, tmp_path):
    out = tmp_path / 'out'
    calls = []

    def stop(done, total):
        calls.append(done)
        if done == total - 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the second process stops
        _call(inferencer, tall['rgb8'], out, ranks=(1, 2), progress=stop)
    record = json.load(open(out / '.scene_rgb8_parts' / 'rank1of2' /
                            'progress.json'))
    assert record['rows_done'] == 512 and not record['complete']
    calls.clear()
    assert _call(inferencer, tall['rgb8'], out, ranks=(1, 2),
                 progress=lambda d, t: calls.append(d)) is None
    assert calls[0] > 1  # resumed after row 512
    result = _call(inferencer, tall['rgb8'], out, ranks=(0, 2))
    assert result.summary['parts'][1]['resumed_from_row'] == 512
    assert result.summary['parts'][0]['resumed_from_row'] == 0
    fresh = _call(inferencer, tall['rgb8'], tmp_path / 'fresh')
    for a, b in zip(fresh.masks + fresh.scores,
                    result.masks + result.scores):
        assert filecmp.cmp(a, b, shallow=False)
