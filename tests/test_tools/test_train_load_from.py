"""tools/train.py with a load_from checkpoint that holds a NaN, a 1.97e37, an
int64 or a wrongly shaped tensor stops before training with one error line
naming the tensor (the checks of the inference path)."""
import os.path as osp

import pytest
import torch
from repo_tools import ROOT, load_tool

from mmrrsis.apis import init_model
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
KEY = 'decode_head.conv_seg.weight'


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=4, size=64, seed=3)
    options = [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]
    torch.manual_seed(0)
    return init_model(LAVT_TINY, device='cpu').state_dict(), options


def _nan(w):
    w[0, 0] = float('nan')
    return w


def _huge(w):
    w[1, 3] = 1.97e37
    return w


@pytest.mark.parametrize('change, says', [
    (_nan, f'{KEY} (1 of 128 values)'),
    (_huge, f'{KEY} (|w| up to 1.97e+37)'),
    (lambda w: (w * 100).to(torch.int64), f'{KEY} (int64 vs float32)'),
    (lambda w: torch.zeros(3, *w.shape[1:]),
     f'{KEY} (3, 64, 1, 1) vs (2, 64, 1, 1)'),
], ids=['nan', '1e37', 'int64', 'shape'])
def test_bad_load_from_exits_naming_the_tensor(tmp_path, setup, change,
                                               says):
    state, options = setup
    state = dict(state)
    state[KEY] = change(state[KEY].clone())
    path = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=state), path)
    with pytest.raises(SystemExit) as info:
        load_tool('tools/train.py').main([
            LAVT_TINY, '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', f'load_from={path}', 'train_cfg.max_epochs=1',
            *options
        ])
    message = str(info.value.code)
    assert message.startswith('error: ') and str(path) in message
    assert says in message
    # stopped before the first iteration: no checkpoint was written
    assert not list((tmp_path / 'work').glob('*.pth'))
