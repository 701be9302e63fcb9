"""The scene command lines: make_synthetic_scene.py, infer_scene.py and
demo/scene_demo.py, run as a user runs them."""
import importlib.util
import json
import os.path as osp

import pytest
import rasterio

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')


def _load(relpath):
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(relpath))[0], osp.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('gen'))
    info = _load('tools/dataset_converters/make_synthetic_scene.py').main(
        [out, '--tiles', '2', '3', '--tile-size', '64', '--texts', 'car',
         'tree', '--quiet'])
    assert json.load(open(osp.join(out, 'scene.json'))) == info
    return info


def test_infer_scene_cli(generated, lgce_tiny_ckpt, tmp_path, capsys):
    out = tmp_path / 'out'
    gts = [e['gt'] for e in generated['expressions']]
    report = _load('tools/infer_scene.py').main([
        generated['bgrn16'], 'car', 'tree', LGCE_TINY, lgce_tiny_ckpt,
        '--out-dir', str(out), '--bands', '3', '2', '1', '--scale',
        'percentile', '--min-area', '5', '--gt', *gts, '--quiet', '--gsd'
    ])
    printed = capsys.readouterr().out
    assert "'car':" in printed and 'geojson:' in printed
    assert '"oIoU"' in printed
    assert 0 <= report['scores']['oIoU'] <= 1
    summary = report['summary']
    assert [e['text'] for e in summary['expressions']] == ['car', 'tree']
    assert summary['scaling']['bands'] == [3, 2, 1]
    # --gsd without a value: the config's train_gsd (1.04 m, the scene's)
    assert summary['model_grid']['gsd'] == [pytest.approx(1.04)] * 2
    for item in summary['expressions']:
        with rasterio.open(item['mask']) as src:
            assert src.crs.to_epsg() == 32632
    assert osp.isfile(out / 'scene_bgrn16_overview.png')


def test_infer_scene_cli_errors_are_one_line(generated, lgce_tiny_ckpt,
                                             tmp_path):
    tool = _load('tools/infer_scene.py')
    with pytest.raises(SystemExit, match=r'^error: .*uint16 with 4 band'):
        tool.main([generated['bgrn16'], 'car', LGCE_TINY, lgce_tiny_ckpt,
                   '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match=r'^error: .*not found'):
        tool.main([str(tmp_path / 'no.tif'), 'car', LGCE_TINY,
                   lgce_tiny_ckpt, '--out-dir', str(tmp_path)])


def test_scene_demo_writes_mask_geojson_overview(lgce_tiny_ckpt, tmp_path):
    report = _load('demo/scene_demo.py').main([
        '--config', LGCE_TINY, '--checkpoint', lgce_tiny_ckpt, '--out-dir',
        str(tmp_path), '--tiles', '2', '2', '--texts', 'car', 'tree'
    ])
    assert len(report['masks']) == 2 and all(
        osp.isfile(m) for m in report['masks'])
    layer = json.load(open(report['geojson']))
    assert layer['type'] == 'FeatureCollection'
    from PIL import Image
    picture = Image.open(report['overview'])
    # prediction and ground truth side by side, legend below
    assert picture.width > 2 * 256 and picture.height > 256
    assert 0 <= report['mIoU'] <= 100


def test_infer_scene_cli_checkpoint_errors_and_unsafe_load(
        generated, lgce_tiny_ckpt, tmp_path, payload_checkpoint):
    """A pickled payload is refused with a one-line error (nothing runs);
    --unsafe-load loads it; a damaged checkpoint is named."""
    import torch
    state = torch.load(lgce_tiny_ckpt, weights_only=True)['state_dict']
    evil = payload_checkpoint(tmp_path / 'evil.pth', dict(state_dict=state))
    tool = _load('tools/infer_scene.py')
    args = [generated['rgb8'], 'car', LGCE_TINY]
    opts = ['--out-dir', str(tmp_path / 'out'), '--quiet', '--no-vectors',
            '--no-overview']
    with pytest.raises(SystemExit, match=r'^error: .*--unsafe-load'):
        tool.main(args + [evil] + opts)
    assert not payload_checkpoint.marker.exists()
    report = tool.main(args + [evil] + opts + ['--unsafe-load'])
    assert payload_checkpoint.marker.exists()
    assert report['summary']['expressions'][0]['text'] == 'car'
    broken = tmp_path / 'broken.pth'
    broken.write_bytes(open(lgce_tiny_ckpt, 'rb').read()[:4096])
    with pytest.raises(SystemExit, match=r'^error: .*broken.pth'):
        tool.main(args + [str(broken)] + opts)
