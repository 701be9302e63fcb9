"""tools/dist_infer_scene.sh: two processes (torchrun, gloo) split the rows
of one scene, or a list of scenes, and write the files one process writes,
byte for byte."""
import filecmp
import glob
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
OPTIONS = ['--crop-size', '64', '--stride', '42', '--no-overview',
           '--no-gpkg', '--quiet']


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from mmrrsis.apis import init_model
    torch.manual_seed(0)
    model = init_model(LGCE_TINY, device='cpu')
    path = str(tmp_path_factory.mktemp('ckpt') / 'lgce.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes')
    tall = make_synthetic_geo_scene(str(root / 'tall'), tiles=(10, 2),
                                    tile_size=64, name='tall')
    small = make_synthetic_geo_scene(str(root / 'small'), tiles=(2, 2),
                                     tile_size=64, name='small', seed=2)
    return tall['rgb8'], small['rgb8']


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _run(args, processes=None):
    env = dict(os.environ, PORT=_free_port(), THREADS='1',
               PYTHON=sys.executable)
    if processes is None:
        cmd = [sys.executable, osp.join(ROOT, 'tools', 'infer_scene.py')]
    else:
        cmd = ['bash', osp.join(ROOT, 'tools', 'dist_infer_scene.sh'),
               *args[:2], str(processes)]
        args = args[2:]
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def _outputs(folder):
    return sorted(glob.glob(osp.join(folder, '*.tif')) +
                  glob.glob(osp.join(folder, '*.geojson')))


def _infer_scene():
    spec = importlib.util.spec_from_file_location(
        'infer_scene', osp.join(ROOT, 'tools', 'infer_scene.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_processes_split_the_rows(checkpoint, scenes, tmp_path):
    tall, _ = scenes
    one = str(tmp_path / 'one')
    _infer_scene().main([tall, 'car', 'tree', LGCE_TINY, checkpoint,
                         '--out-dir', one] + OPTIONS)
    rows = str(tmp_path / 'rows')
    proc = _run([LGCE_TINY, checkpoint, tall, 'car', 'tree', '--out-dir',
                 rows] + OPTIONS, processes=2)
    assert proc.stdout.count("'car'") == 1  # the first process reports
    expected = _outputs(one)
    assert len(expected) == 4 + 1
    for name in expected:
        assert filecmp.cmp(name, osp.join(rows, osp.basename(name)),
                           shallow=False), name
    assert not glob.glob(osp.join(rows, '.*_parts'))


def test_a_list_of_scenes_is_shared(checkpoint, scenes, tmp_path,
                                    monkeypatch):
    """With several scenes each process runs its share whole (here the
    second of two processes, in this process)."""
    tall, small = scenes
    tool = _infer_scene()
    monkeypatch.setattr(tool, '_dist', lambda args: (1, 2))
    report = tool.main(['--model', LGCE_TINY, checkpoint, tall, small,
                        'car', '--out-dir', str(tmp_path / 'second')] +
                       OPTIONS)
    assert [osp.basename(s['scene']) for s in report['summaries']] == [
        'small_rgb8.tif']
    assert not glob.glob(osp.join(tmp_path, 'second', 'tall*'))
