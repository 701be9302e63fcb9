"""Train a toy model with RRSISRunner; run by ``test_runner_cpu_dist.py``.

Launched with ``torchrun --nproc_per_node 2`` (gloo on CPU) or as a plain
process (single-process reference). Each process writes
``<work_dir>/rank<R>.json`` with its rank, world size, iteration count and
final parameters, so the test can check that every rank ran and that the
parameters stayed in sync.
"""
import argparse
import json
import os
import os.path as osp
import signal

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch.utils.data import Dataset

import mmrrsis  # noqa: F401  (compat fixes)
from mmrrsis.engine import RRSISRunner, destroy_dist


class ToyDataset(Dataset):
    """16 samples ``x`` (4,) with targets ``y = x @ w_true``."""

    def __init__(self, num: int = 16) -> None:
        gen = torch.Generator().manual_seed(0)
        self.x = torch.randn(num, 4, generator=gen)
        self.y = self.x @ torch.tensor([1.0, -2.0, 3.0, 0.5])

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.x[idx], targets=self.y[idx])


class ToyModel(BaseModel):
    """A linear regressor with a mean squared error loss."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.linear(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((pred - targets)**2).mean())
        return pred


class StopSelf(Hook):
    """SIGSTOP this process after its second iteration (a stalled rank)."""

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter == 1:
            with open(osp.join(runner.work_dir, f'stopped{runner.rank}'),
                      'w') as f:
                f.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGSTOP)


def num_threads() -> int:
    """Native threads of this process (Linux)."""
    return len(os.listdir('/proc/self/task'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('work_dir')
    parser.add_argument('--launcher', default='none')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument(
        '--timeout', type=float, help='env_cfg.dist_cfg.timeout (seconds)')
    parser.add_argument(
        '--stop-rank', type=int, help='this rank stops after 2 iterations')
    args = parser.parse_args()

    rank = int(os.environ.get('RANK', 0))
    # different initial weights on every rank: DDP must broadcast rank 0's
    torch.manual_seed(100 + rank)
    model = ToyModel()
    runner = RRSISRunner(
        model=model,
        work_dir=args.work_dir,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=args.batch_size,
            num_workers=0),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        launcher=args.launcher,
        env_cfg=dict(dist_cfg=dict(backend='gloo', timeout=args.timeout)),
        default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=[StopSelf()] if args.stop_rank == rank else [],
        default_scope='mmrrsis')
    runner.train()
    net = runner.model.module if hasattr(runner.model,
                                         'module') else runner.model
    result = dict(
        rank=rank,
        world_size=runner.world_size,
        distributed=runner.distributed,
        wrapper=type(runner.model).__name__,
        iters=runner.iter,
        params=[p.detach().flatten().tolist() for p in net.parameters()])
    threads_before = num_threads()
    destroy_dist(runner)
    # the gloo worker (and transport) threads were joined
    result['threads_freed'] = threads_before - num_threads()
    result['wrapper_after'] = type(runner.model).__name__
    with open(osp.join(args.work_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main()
