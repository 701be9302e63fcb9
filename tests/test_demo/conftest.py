"""The web app served on a local port for the tests (tiny LGCE, random
weights; the page says so)."""
import importlib.util
import os.path as osp
import socket

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')


def load_web_app():
    spec = importlib.util.spec_from_file_location(
        'web_app', osp.join(ROOT, 'demo/web_app.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='session')
def web_app(tmp_path_factory):
    """(url, SegmentApp, work dir, a 64 x 64 tile PNG)."""
    module = load_web_app()
    work = str(tmp_path_factory.mktemp('web_app'))
    port = free_port()
    torch.manual_seed(0)
    page, app, args = module.create([
        LGCE_TINY, 'none', '--port', str(port), '--work-dir', work,
        '--device', 'cpu'
    ])
    module.serve(page, '127.0.0.1', port, work, block=False)
    from mmrrsis.datasets.synthetic import generate_scene
    tile = osp.join(work, 'tile64.png')
    Image.fromarray(
        generate_scene(64, np.random.default_rng([3, 1])).image).save(tile)
    yield f'http://127.0.0.1:{port}/', app, work, tile
    page.close()
