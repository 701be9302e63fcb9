"""RSRefSeg2's tiny config trained by RRSISFlexibleRunner with FSDP on two
gloo processes on CPU (tools/dist_train.sh --strategy fsdp): the
checkpoints are written atomically, load without running code (and into
a plain model), and a resumed run ends with the weights of an uninterrupted
one. apply_strategy (tools/train.py --strategy) rewrites configs."""
import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
from mmengine import Config

from mmrrsis.compat import load_checkpoint_file
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.engine import apply_strategy

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(ROOT, 'configs/tiny/rsrefseg2_tiny_refsegrs-64x64.py')
FULL = osp.join(
    ROOT, 'configs/rsrefseg2/'
    'rsrefseg2_sam2.1-l_siglip2-so400m_b8-600e_refsegrs-1024x1024.py')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=4, size=64, seed=1,
                            show_progress=False)
    return [
        'env_cfg.dist_cfg.backend=gloo', 'randomness.seed=0',
        *(f'{loader}.dataset.data_root={root}'
          for loader in ('train_dataloader', 'val_dataloader',
                         'test_dataloader'))
    ]


def train(work_dir, options, flags=(), extra_options=()):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PORT=str(free_port()))
    proc = subprocess.run([
        'bash', 'tools/dist_train.sh', TINY, '2', '--strategy', 'fsdp',
        '--work-dir', str(work_dir), *flags, '--cfg-options', *options,
        *extra_options
    ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_fsdp_on_cpu_resumes_exactly(tmp_path, options):
    whole, split = tmp_path / 'whole', tmp_path / 'split'
    train(whole, options)
    log = open(glob.glob(str(whole / '*' / '*.log'))[0]).read()
    assert 'RRSISFSDPStrategy' in log and 'Distributed training: True' in log
    # stopped after epoch 1, continued with --resume
    train(split, options, extra_options=['train_cfg.max_epochs=1'])
    train(split, options, flags=['--resume'])
    assert not glob.glob(str(split / '.*tmp*'))
    done = load_checkpoint_file(str(whole / 'epoch_2.pth'))
    resumed = load_checkpoint_file(str(split / 'epoch_2.pth'))
    assert done['meta']['epoch'] == resumed['meta']['epoch'] == 2
    assert len(done['optimizer']['fsdp_shards']) == 2
    for key, value in done['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    # the full state dict of the sharded run loads into a plain model
    from mmengine.registry import DefaultScope

    from mmrrsis.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        model = MODELS.build(Config.fromfile(TINY).model.to_dict())
    model.load_state_dict(done['state_dict'], strict=True)


def test_apply_strategy_moves_the_clipping():
    cfg = Config.fromfile(FULL)
    assert cfg.runner_type == 'RRSISFlexibleRunner'
    assert cfg.strategy.type == 'RRSISDeepSpeedStrategy'
    assert cfg.strategy.gradient_clipping == 3.0
    assert cfg.strategy.zero_optimization.stage == 2
    apply_strategy(cfg, 'fsdp')
    assert cfg.strategy.type == 'RRSISFSDPStrategy'
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=3.0)
    assert cfg.optim_wrapper.optimizer.lr == 2e-4
    apply_strategy(cfg, 'ddp')
    assert cfg.runner_type == 'RRSISRunner' and 'strategy' not in cfg
    apply_strategy(cfg, 'deepspeed')
    assert cfg.optim_wrapper.type == 'DeepSpeedOptimWrapper'
    assert 'clip_grad' not in cfg.optim_wrapper
    assert cfg.strategy.gradient_clipping == 3.0
    with pytest.raises(ValueError, match='strategy must be one of'):
        apply_strategy(cfg, 'zero3')


def test_deepspeed_without_its_requirements_says_what_to_do(tmp_path):
    import importlib.util as util

    from mmrrsis.engine import RRSISDeepSpeedStrategy, StrategyUnavailableError
    if util.find_spec('deepspeed') and torch.cuda.is_available():
        pytest.skip('DeepSpeed and a GPU are here')
    with pytest.raises(StrategyUnavailableError, match='--strategy fsdp'):
        RRSISDeepSpeedStrategy(work_dir=str(tmp_path))
