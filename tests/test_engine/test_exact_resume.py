"""Kill + resume gives the weights of an uninterrupted run, exactly.

The tiny LAVT (drop-path 0.1, so every step draws random numbers) trains
2 epochs of 4 iterations with ``randomness.deterministic=True``, checkpoints
after every iteration and validation after every epoch. A second run is
stopped right after a checkpoint (inside epoch 2, or at the end of epoch
1) and a third one resumes it from the work dir.
"""
import copy
import itertools
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.engine import ResumeError, RRSISRunner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
_NAMES = itertools.count()


class Killed(Exception):
    """Stands for a kill right after a checkpoint was written."""


class KillAfter(Hook):
    """Raise :class:`Killed` after training iteration ``iters`` (1-based)
    or, with ``at_epoch_end``, after the epoch that ends with it; once every
    other hook (the checkpoint's too) has run."""

    priority = 'LOWEST'

    def __init__(self, iters: int, at_epoch_end: bool = False) -> None:
        self.iters = iters
        self.at_epoch_end = at_epoch_end

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self.at_epoch_end and runner.iter + 1 == self.iters:
            raise Killed

    def after_train_epoch(self, runner) -> None:
        if self.at_epoch_end and runner.iter == self.iters:
            raise Killed


@pytest.fixture(scope='module')
def base_cfg(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=4, size=64, seed=1)
    cfg = Config.fromfile(LAVT_TINY)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.data_root = root
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.default_hooks.logger.interval = 100
    cfg.default_hooks.checkpoint.update(
        by_epoch=False, interval=1, max_keep_ckpts=2, save_best=None)
    cfg.log_level = 'WARNING'
    assert cfg.model.backbone.drop_path_rate > 0
    return cfg


def train(cfg, work_dir, kill_after=None, resume=False, by_epoch=False):
    cfg = copy.deepcopy(cfg)
    cfg.default_hooks.checkpoint.by_epoch = by_epoch
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'exact{next(_NAMES)}'
    cfg.resume = resume
    runner = RRSISRunner.from_cfg(cfg)
    if kill_after is not None:
        runner.register_hook(KillAfter(kill_after, at_epoch_end=by_epoch))
    try:
        runner.train()
    except Killed:
        pass
    return runner


@pytest.fixture(scope='module')
def uninterrupted(base_cfg, tmp_path_factory):
    runner = train(base_cfg, tmp_path_factory.mktemp('full'))
    assert runner.iter == 8 and runner.epoch == 2
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def assert_identical(state, expected):
    assert state.keys() == expected.keys()
    differ = [k for k in expected if not torch.equal(state[k], expected[k])]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:3]}'


@pytest.mark.parametrize(
    'kill_after, by_epoch', [(6, False), (4, False), (4, True)],
    ids=['inside-epoch', 'last-batch', 'end-of-epoch'])
def test_kill_and_resume_equals_uninterrupted(base_cfg, uninterrupted,
                                              tmp_path, kill_after,
                                              by_epoch):
    work_dir = tmp_path / 'run'
    train(base_cfg, work_dir, kill_after=kill_after, by_epoch=by_epoch)
    name = 'epoch_1.pth' if by_epoch else f'iter_{kill_after}.pth'
    with open(work_dir / 'last_checkpoint') as f:
        assert f.read().strip().endswith(name)
    resumed = train(base_cfg, work_dir, resume=True, by_epoch=by_epoch)
    assert resumed.iter == 8 and resumed.epoch == 2  # not 10: no epoch rerun
    assert_identical(resumed.model.state_dict(), uninterrupted)


def test_without_the_random_states_it_differs(base_cfg, uninterrupted,
                                              tmp_path):
    """The test above can fail: resuming without the saved random states
    (as from a checkpoint of mmengine's own hook) changes the weights."""
    work_dir = tmp_path / 'run'
    train(base_cfg, work_dir, kill_after=6)
    path = work_dir / 'iter_6.pth'
    checkpoint = torch.load(path, weights_only=False)
    del checkpoint['resume_state']
    torch.save(checkpoint, path)
    resumed = train(base_cfg, work_dir, resume=True)
    assert resumed.iter == 8
    state = resumed.model.state_dict()
    assert any(not torch.equal(state[k], v) for k, v in uninterrupted.items())


def test_mmengine_epoch_loop_refuses_a_checkpoint_inside_an_epoch(
        base_cfg, tmp_path):
    work_dir = tmp_path / 'run'
    train(base_cfg, work_dir, kill_after=6)
    cfg = copy.deepcopy(base_cfg)
    cfg.train_cfg.type = 'EpochBasedTrainLoop'
    with pytest.raises(ResumeError, match=r'inside epoch 2 \(after 2 of its '
                       r'4 batches\).*RRSISEpochBasedTrainLoop'):
        train(cfg, work_dir, resume=True)
