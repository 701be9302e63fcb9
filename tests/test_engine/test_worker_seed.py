"""Deterministic runs: data workers draw new numbers every epoch, and the
same ones when the epoch is run again (as after a resume)."""
import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmrrsis.engine import RRSISRunner, epoch_worker_init_fn


class RandomDraws(Dataset):
    """Each sample is a number drawn in the worker (like an augmentation).
    """

    def __len__(self) -> int:
        return 8

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=torch.tensor([np.random.rand()]))


class Identity(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return inputs * self.w


def loader_cfg():
    return dict(
        dataset=RandomDraws(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
        batch_size=2,
        num_workers=2,
        persistent_workers=True)


def draws(loader, epoch):
    loader.sampler.set_epoch(epoch)
    return torch.cat([b['inputs'] for b in loader]).flatten().tolist()


def test_epoch_seeded_workers(tmp_path):
    runner = RRSISRunner(
        model=Identity(),
        work_dir=str(tmp_path),
        randomness=dict(seed=7, deterministic=True),
        default_scope='mmrrsis')
    loader = runner.build_dataloader(loader_cfg(), seed=runner.seed)
    assert loader.persistent_workers is False  # said in the log
    assert loader.worker_init_fn.func is epoch_worker_init_fn
    epoch0, epoch1 = draws(loader, 0), draws(loader, 1)
    assert epoch0 != epoch1  # new augmentation every epoch
    # a fresh loader (a resumed run) repeats each epoch's numbers
    again = runner.build_dataloader(loader_cfg(), seed=runner.seed)
    assert draws(again, 1) == epoch1 and draws(again, 0) == epoch0


def test_not_deterministic_keeps_the_config(tmp_path):
    runner = RRSISRunner(
        model=Identity(),
        work_dir=str(tmp_path),
        randomness=dict(seed=7),
        default_scope='mmrrsis')
    loader = runner.build_dataloader(loader_cfg(), seed=runner.seed)
    assert loader.persistent_workers is True
    assert loader.worker_init_fn.func is not epoch_worker_init_fn
