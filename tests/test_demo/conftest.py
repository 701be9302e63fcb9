"""The web app served on a local port for the tests (tiny LGCE, random
weights; the page says so)."""
import importlib.util
import os
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


@pytest.fixture(scope='session')
def web_app_module():
    """demo/web_app.py, imported (no server started)."""
    return load_web_app()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='session')
def web_app(tmp_path_factory):
    """(url, SegmentApp, work dir, a tile PNG of the model's window size).

    ``MMRRSIS_WEB_APP_CONFIG`` / ``_CHECKPOINT`` serve another model (how
    the README's screenshot is taken with the out-of-the-box checkpoint;
    the API tests assume the default tiny model).
    """
    module = load_web_app()
    work = str(tmp_path_factory.mktemp('web_app'))
    port = free_port()
    torch.manual_seed(0)
    page, app, args = module.create([
        os.environ.get('MMRRSIS_WEB_APP_CONFIG', LGCE_TINY),
        os.environ.get('MMRRSIS_WEB_APP_CHECKPOINT', 'none'), '--port',
        str(port), '--work-dir', work, '--device', 'cpu'
    ])
    module.serve(page, '127.0.0.1', port, work, block=False)
    from mmrrsis.datasets.synthetic import generate_scene
    size = app.inferencer.crop_size[0]
    tile = osp.join(work, f'tile{size}.png')
    Image.fromarray(
        generate_scene(size, np.random.default_rng([3, 1])).image).save(tile)
    yield f'http://127.0.0.1:{port}/', app, work, tile
    page.close()
