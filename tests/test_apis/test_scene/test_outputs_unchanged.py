"""Scene outputs are the same as before the inference layer was refactored
(issue 20).

``tests/data/apis/scene_outputs.npz`` and ``scene_outputs.json`` were
written ONCE, by running this file as a script (``python
tests/test_apis/test_scene/test_outputs_unchanged.py --write``) on main's
code (commit 4cb6bd8), before the scene package was split into stages.
They hold, for three settings of a tiny LGCE whose every weight is set
from its key name (:func:`fill_weights` of the model tests), the mask and
score rasters of two expressions on a generated 192 x 256 scene and the
GeoJSON features. Never regenerate them to make this test pass: a
difference means the refactor changed what a user gets.
"""
import hashlib
import json
import os.path as osp
import sys
import tempfile

import numpy as np
import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
TESTS = osp.dirname(osp.dirname(HERE))
ROOT = osp.dirname(TESTS)
DATA = osp.join(TESTS, 'data', 'apis')
ARRAYS = osp.join(DATA, 'scene_outputs.npz')
FEATURES = osp.join(DATA, 'scene_outputs.json')
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
TEXTS = ['car', 'building along the road']
CROP, STRIDE = 64, 42
#: name -> (scene variant, SceneInferencer arguments, call arguments)
CASES = {
    'hann': ('rgb8', dict(), dict()),
    'uniform_gsd': ('rgb8', dict(blend='uniform'), dict(gsd=2.08)),
    'bgrn16_percentile': ('bgrn16', dict(),
                          dict(scaling=dict(bands=(3, 2, 1),
                                            scale='percentile'))),
}


def fixed_checkpoint(path: str) -> str:
    """The tiny LGCE with every weight a function of its key name."""
    sys.path.insert(0, TESTS)
    from test_models.test_reference_outputs import fill_weights

    from mmrrsis.apis import init_model
    model = init_model(LGCE_TINY, device='cpu')
    fill_weights(model)
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def scene_digest(path: str) -> str:
    """sha256 of a raster's pixels and validity (the generator's output)."""
    import rasterio
    with rasterio.open(path) as src:
        data = src.read()
        valid = src.dataset_mask()
    return hashlib.sha256(data.tobytes() + valid.tobytes()).hexdigest()


def render(case: str, scene: dict, checkpoint: str, out_dir: str) -> dict:
    """The rasters and GeoJSON features of one case."""
    import rasterio

    from mmrrsis.apis import SceneInferencer
    variant, init_args, call_args = CASES[case]
    inferencer = SceneInferencer(LGCE_TINY, checkpoint, device='cpu',
                                 crop_size=CROP, stride=STRIDE, **init_args)
    result = inferencer(scene[variant], TEXTS, out_dir, gpkg=False,
                        overview=False, show_progress=False, **call_args)
    arrays = {}
    for k, (mask, score) in enumerate(zip(result.masks, result.scores)):
        for kind, path in (('mask', mask), ('score', score)):
            with rasterio.open(path) as src:
                arrays[f'{case}/{kind}_{k}'] = src.read(1)
    with open(result.geojson) as f:
        features = json.load(f)['features']
    return dict(arrays=arrays, features=features)


@pytest.fixture(scope='module')
def scene(tmp_path_factory):
    from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene
    root = str(tmp_path_factory.mktemp('golden_scene'))
    return make_synthetic_geo_scene(root, tiles=(3, 4), tile_size=64)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return fixed_checkpoint(
        str(tmp_path_factory.mktemp('golden_ckpt') / 'lgce_fixed.pth'))


@pytest.mark.parametrize('case', sorted(CASES))
def test_scene_outputs_as_before_the_refactor(case, scene, checkpoint,
                                              tmp_path):
    expected = np.load(ARRAYS, allow_pickle=False)
    features = json.load(open(FEATURES))
    for variant in ('rgb8', 'bgrn16'):
        assert scene_digest(scene[variant]) == str(
            expected[f'scene/{variant}']), (
                'the generated scene changed, so the outputs cannot be '
                'compared: keep make_synthetic_geo_scene as it was')
    run = render(case, scene, checkpoint, str(tmp_path))
    assert sorted(run['arrays']) == sorted(
        k for k in expected.files if k.startswith(case + '/'))
    for key, array in run['arrays'].items():
        want = expected[key]
        differ = int((array != want).sum())
        assert differ == 0, f'{key}: {differ} pixels differ'
    assert run['features'] == features[case]


def write_fixture():  # pragma: no cover - run once, see the docstring
    from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene
    torch.set_num_threads(1)
    arrays, features = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        scene = make_synthetic_geo_scene(
            osp.join(tmp, 'scene'), tiles=(3, 4), tile_size=64)
        for variant in ('rgb8', 'bgrn16'):
            arrays[f'scene/{variant}'] = np.array(
                scene_digest(scene[variant]))
        ckpt = fixed_checkpoint(osp.join(tmp, 'lgce_fixed.pth'))
        for case in sorted(CASES):
            run = render(case, scene, ckpt, osp.join(tmp, case))
            arrays.update(run['arrays'])
            features[case] = run['features']
            print(case, {k: int((v == 1).sum())
                         for k, v in run['arrays'].items() if '/mask' in k},
                  len(run['features']), 'features')
    import os
    os.makedirs(DATA, exist_ok=True)
    np.savez_compressed(ARRAYS, **arrays)
    with open(FEATURES, 'w') as f:
        json.dump(features, f)


if __name__ == '__main__':  # pragma: no cover
    if '--write' in sys.argv:
        write_fixture()
