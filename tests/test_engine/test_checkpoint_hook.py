"""Checkpoints of RRSISRunner + RRSISCheckpointHook: loadable without
running code, never lost by an interrupted save, resumed with fallback.

A toy regression model keeps these fast; exact resume of the real tiny
model is in ``test_exact_resume.py``.
"""
import glob
import itertools
import logging
import os
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.fileio.backends import LocalBackend
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmrrsis.compat import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint_file,
)
from mmrrsis.engine import ResumeError, RRSISRunner


class ToyDataset(Dataset):

    def __init__(self, num: int = 12) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(num, 4, generator=gen)
        self.y = self.x @ torch.tensor([1.0, -2.0, 3.0, 0.5])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.x[idx], targets=self.y[idx])


class ToyModel(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((pred - targets)**2).mean())
        return pred


_NAMES = itertools.count()


def make_runner(work_dir, name, max_epochs=3, max_keep_ckpts=3, **kwargs):
    torch.manual_seed(0)
    return RRSISRunner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=f'{name}{next(_NAMES)}',  # own message hub
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=0),
        train_cfg=dict(type='RRSISEpochBasedTrainLoop', max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        param_scheduler=dict(
            type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, end=9),
        default_hooks=dict(
            checkpoint=dict(
                type='RRSISCheckpointHook',
                interval=1,
                max_keep_ckpts=max_keep_ckpts),
            logger=None),
        randomness=dict(seed=0),
        default_scope='mmrrsis',
        **kwargs)


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def last_named(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


@pytest.fixture(scope='module')
def full_run(tmp_path_factory):
    """An uninterrupted 3-epoch run: its final weights and work dir."""
    work_dir = tmp_path_factory.mktemp('full')
    runner = make_runner(work_dir, 'full')
    runner.train()
    return weights(runner.model), work_dir


def test_checkpoints_load_as_weights_only(full_run):
    _, work_dir = full_run
    path = str(work_dir / 'epoch_3.pth')
    # nothing beyond numpy's data types is needed to read it
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    assert all(name.startswith('numpy') for name in unsafe), unsafe
    checkpoint = load_checkpoint_file(path)
    assert checkpoint['meta']['epoch'] == 3
    state = checkpoint['resume_state']
    assert state['world_size'] == 1 and state['epoch_length'] == 3
    assert state['rng'][0]['torch'].dtype == torch.uint8
    loss = checkpoint['message_hub']['log_scalars']['train/loss']
    assert torch.is_tensor(loss['log']) and len(loss['log']) == 9


def test_resume_restores_the_message_hub(full_run, tmp_path):
    _, work_dir = full_run
    runner = make_runner(
        work_dir, 'again', max_epochs=3, resume=True,
        load_from=str(work_dir / 'epoch_2.pth'))
    runner.load_or_resume()
    loss = runner.message_hub.get_scalar('train/loss')
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 6
    assert runner.epoch == 2 and runner.iter == 6


def interrupt_write(monkeypatch, name_part):
    """Make the write of a file whose name contains ``name_part`` stop
    halfway with an error (a full disk, a kill while writing)."""
    put = LocalBackend.put

    def failing_put(self, obj, filepath):
        if name_part in osp.basename(str(filepath)):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError('No space left on device (simulated)')
        return put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', failing_put)


def test_interrupted_save_keeps_the_previous_checkpoint(
        tmp_path, monkeypatch, full_run):
    """With max_keep_ckpts=1, mmengine deletes epoch_1.pth before writing
    epoch_2.pth; an interrupted write then left nothing."""
    work_dir = tmp_path / 'run'
    interrupt_write(monkeypatch, 'epoch_2')
    runner = make_runner(work_dir, 'cut', max_keep_ckpts=1)
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    monkeypatch.undo()
    files = [
        f for f in os.listdir(work_dir)
        if f.endswith('.pth') or f.startswith('.') or f == 'last_checkpoint'
    ]  # no partial epoch_2.pth, no temporary file
    assert sorted(files) == ['epoch_1.pth', 'last_checkpoint']
    assert last_named(work_dir) == str(work_dir / 'epoch_1.pth')
    assert load_checkpoint_file(last_named(work_dir))['meta']['epoch'] == 1

    # a kill (no exception handler) leaves the temporary file behind:
    # the next run deletes it
    stale = work_dir / '.epoch_2.pth.tmp-12345'
    stale.write_bytes(b'partial')
    resumed = make_runner(work_dir, 'resumed', max_keep_ckpts=1, resume=True)
    resumed.train()
    assert not stale.exists()
    assert resumed.iter == 9
    assert_same(weights(resumed.model), full_run[0])
    assert [osp.basename(p) for p in glob.glob(str(work_dir / '*.pth'))
            ] == ['epoch_3.pth']


@pytest.fixture
def three_epochs(tmp_path, full_run):
    """A copy of the full run's checkpoints in a fresh work dir."""
    work_dir = tmp_path / 'copy'
    work_dir.mkdir()
    for epoch in (1, 2, 3):
        data = (full_run[1] / f'epoch_{epoch}.pth').read_bytes()
        (work_dir / f'epoch_{epoch}.pth').write_bytes(data)
        os.utime(work_dir / f'epoch_{epoch}.pth', (epoch, epoch))
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
    return work_dir


def resume_and_log(work_dir, caplog, **kwargs):
    runner = make_runner(
        work_dir, 'r', max_epochs=4, resume=True, **kwargs)
    caplog.set_level(logging.INFO)
    runner.logger.addHandler(caplog.handler)  # MMLogger does not propagate
    try:
        runner.load_or_resume()
    finally:
        runner.logger.removeHandler(caplog.handler)
    return runner, caplog.text


def test_resume_falls_back_past_a_truncated_checkpoint(three_epochs, caplog):
    newest = three_epochs / 'epoch_3.pth'
    newest.write_bytes(newest.read_bytes()[:1000])
    runner, log = resume_and_log(three_epochs, caplog)
    assert runner.epoch == 2 and runner.iter == 6
    assert f'skipped {newest}: CorruptCheckpointError' in log
    assert 'epoch_2.pth' in log


def test_resume_notes_a_missing_or_empty_last_checkpoint(
        three_epochs, caplog):
    (three_epochs / 'epoch_3.pth').unlink()
    runner, log = resume_and_log(three_epochs, caplog)
    assert runner.epoch == 2
    assert 'which does not exist' in log
    (three_epochs / 'last_checkpoint').write_text('')
    (three_epochs / 'epoch_2.pth').write_bytes(b'')
    runner, log = resume_and_log(three_epochs, caplog)
    assert runner.epoch == 1
    assert 'last_checkpoint is empty' in log and 'is empty (0 bytes)' in log


def test_resume_error_when_no_checkpoint_loads(three_epochs,
                                               payload_checkpoint):
    for epoch in (1, 2):
        (three_epochs / f'epoch_{epoch}.pth').unlink()
    payload_checkpoint(three_epochs / 'epoch_3.pth')
    with pytest.raises(ResumeError) as info:
        make_runner(three_epochs, 'r', resume=True).load_or_resume()
    message = str(info.value)
    assert 'epoch_3.pth: UnsafeCheckpointError' in message
    assert '--unsafe-load' in message
    assert not payload_checkpoint.marker.exists()


def test_explicit_resume_or_load_from_is_checked(three_epochs,
                                                 payload_checkpoint):
    evil = payload_checkpoint(three_epochs / 'evil.pth')
    for kwargs in (dict(resume=True, load_from=evil), dict(load_from=evil)):
        with pytest.raises(UnsafeCheckpointError):
            make_runner(three_epochs, 'r', **kwargs).load_or_resume()
    assert not payload_checkpoint.marker.exists()
    damaged = three_epochs / 'epoch_3.pth'
    damaged.write_bytes(damaged.read_bytes()[:500])
    with pytest.raises(CorruptCheckpointError, match='epoch_3.pth'):
        make_runner(
            three_epochs, 'r', resume=True,
            load_from=str(damaged)).load_or_resume()
    # the named opt-in unpickles completely
    weights_only = load_checkpoint_file(str(three_epochs / 'epoch_2.pth'))
    trusted = payload_checkpoint(
        three_epochs / 'trusted.pth',
        dict(state_dict=weights_only['state_dict']))
    runner = make_runner(three_epochs, 'r', load_from=trusted,
                         cfg=dict(unsafe_load=True))
    runner.load_or_resume()
    assert payload_checkpoint.marker.exists()
    assert_same(weights(runner.model), weights_only['state_dict'])
