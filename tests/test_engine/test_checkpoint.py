"""Save, load and resume mmengine checkpoints under the pinned torch.

torch >= 2.6 loads with ``weights_only=True`` by default, which refuses
mmengine checkpoints; ``import mmrrsis`` registers a loader that fixes it.
These tests train a toy model with the Runner, load its checkpoints and
resume from them.
"""
import os.path as osp

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from torch.utils.data import Dataset

import mmrrsis  # noqa: F401


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


def make_runner(work_dir, name, max_epochs, **kwargs):
    torch.manual_seed(0)
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=0),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.05)),
        param_scheduler=dict(
            type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, end=9),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=None),
        randomness=dict(seed=0),
        default_scope='mmrrsis',
        **kwargs)


def params_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_save_and_load_checkpoint(tmp_path):
    runner = make_runner(tmp_path, 'save', max_epochs=2)
    runner.train()
    for name in ('epoch_1.pth', 'epoch_2.pth', 'last_checkpoint'):
        assert osp.isfile(tmp_path / name), name
    ckpt = torch.load(tmp_path / 'epoch_2.pth', weights_only=False)
    assert ckpt['meta']['epoch'] == 2 and ckpt['meta']['iter'] == 6
    assert 'optimizer' in ckpt and 'param_schedulers' in ckpt

    fresh = ToyModel()
    assert not torch.equal(fresh.linear.weight, runner.model.linear.weight)
    # mmengine's loader goes through the local-path loader of mmrrsis
    load_checkpoint(fresh, str(tmp_path / 'epoch_2.pth'), map_location='cpu')
    for key, value in params_of(runner.model).items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    full = make_runner(tmp_path / 'full', 'full', max_epochs=3)
    full.train()
    expected = params_of(full.model)
    expected_lr = full.optim_wrapper.get_lr()['lr'][0]

    part = make_runner(tmp_path / 'part', 'part', max_epochs=1)
    part.train()
    saved = torch.load(
        tmp_path / 'part' / 'epoch_1.pth', weights_only=False)

    resumed = make_runner(
        tmp_path / 'part', 'resumed', max_epochs=3, resume=True)
    resumed.load_or_resume()
    # the right place in the schedule ...
    assert resumed.epoch == 1 and resumed.iter == 3
    # ... with the saved optimizer (AdamW moments, step) and scheduler
    state = resumed.optim_wrapper.optimizer.state_dict()
    for idx, param_state in saved['optimizer']['state'].items():
        for key, value in param_state.items():
            assert torch.equal(state['state'][idx][key], value), key
    assert resumed.param_schedulers[0].last_step == 3
    assert (resumed.param_schedulers[0].state_dict() ==
            saved['param_schedulers'][0])

    resumed.train()
    assert resumed.iter == 9 and resumed.epoch == 3
    for key, value in expected.items():
        torch.testing.assert_close(
            resumed.model.state_dict()[key], value, rtol=1e-6, atol=1e-7)
    assert resumed.optim_wrapper.get_lr()['lr'][0] == expected_lr
