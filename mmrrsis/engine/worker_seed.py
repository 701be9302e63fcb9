"""Seeds of data-loading workers that differ per epoch, reproducibly."""
import random

import numpy as np
import torch


def epoch_worker_init_fn(worker_id: int, num_workers: int, rank: int,
                         seed: int, sampler=None) -> None:
    """Seed a data worker from (seed, rank, worker, epoch).

    mmengine's ``worker_init_fn`` seeds every worker with
    ``num_workers * rank + worker_id + seed``, the same in every epoch, so
    workers that are started anew each epoch draw the same augmentation
    every epoch. This one adds the epoch of ``sampler`` (set by
    ``DistSamplerSeedHook`` before the epoch's workers start), so each
    epoch draws new numbers and a resumed run the same ones as an
    uninterrupted run.

    Args:
        worker_id (int): Worker index in ``[0, num_workers)``.
        num_workers (int): Workers of the dataloader.
        rank (int): Process rank.
        seed (int): The run's seed.
        sampler (optional): The dataloader's sampler; its ``epoch``
            attribute is read. Defaults to None (epoch 0).
    """
    epoch = int(getattr(sampler, 'epoch', 0) or 0)
    worker_seed = (seed + num_workers * rank + worker_id +
                   epoch * 1_000_003) % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)
