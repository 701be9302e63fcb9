"""Tiny configs, a generated RefSegRS folder and tiny checkpoints."""
import os.path as osp

import pytest
import torch

from mmrrsis.apis import init_model
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')


def save_random_checkpoint(config: str, path: str, seed: int = 0) -> str:
    """Save the randomly initialised weights of ``config``'s model."""
    torch.manual_seed(seed)
    model = init_model(config, device='cpu')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=model.dataset_meta)), path)
    return path


@pytest.fixture(scope='session')
def refsegrs_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=3, size=64, seed=0)
    return root


@pytest.fixture(scope='session')
def lavt_tiny_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'lavt_tiny.pth'
    return save_random_checkpoint(LAVT_TINY, str(path))


@pytest.fixture(scope='session')
def lgce_tiny_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'lgce_tiny.pth'
    return save_random_checkpoint(LGCE_TINY, str(path))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (no oversubscription of the
    CPU when other test processes run too)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
