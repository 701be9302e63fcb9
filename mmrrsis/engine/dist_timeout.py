"""Say which rank timed out in which collective, when a peer stalls.

With a rank stopped or dead, the others wait inside a collective until the
process group's timeout (``env_cfg.dist_cfg.timeout``) and then get a
backend error such as gloo's "Timed out waiting 600000ms for recv operation
to complete", which names neither the rank nor the operation.
:func:`naming_dist_timeouts` turns such an error into a
:class:`DistTimeoutError` that does.
"""
import traceback
from contextlib import contextmanager
from typing import Optional

import torch.distributed as torch_dist

#: Substrings of the backends' timeout errors (gloo, NCCL's watchdog, the
#: rendezvous store).
TIMEOUT_MARKS = ('timed out', 'timeout', 'deadline exceeded')


class DistTimeoutError(RuntimeError):
    """A collective did not complete within the process group's timeout."""


def is_timeout(error: BaseException) -> bool:
    """Whether ``error`` is a distributed backend's timeout."""
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(m in text
                                                   for m in TIMEOUT_MARKS)


def describe_collective(error: BaseException) -> str:
    """Where ``error`` was raised, as a collective's name.

    Args:
        error (BaseException): A raised error (its traceback is read).

    Returns:
        str: e.g. ``'torch.distributed.barrier'``, ``"DDP's gradient
        all-reduce (backward pass)"`` or ``'a collective operation'``.
    """
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        path = frame.filename.replace('\\', '/')
        if path.endswith('torch/distributed/distributed_c10d.py'):
            return f'torch.distributed.{frame.name}'
        if path.endswith('mmengine/dist/dist.py'):
            return f'mmengine.dist.{frame.name}'
        if '/torch/autograd/' in path or path.endswith('torch/_tensor.py'):
            return "DDP's gradient all-reduce (backward pass)"
        if path.endswith('torch/nn/parallel/distributed.py'):
            return f'DDP ({frame.name})'
    return 'a collective operation'


@contextmanager
def naming_dist_timeouts(timeout: Optional[float] = None):
    """Re-raise a backend timeout as :class:`DistTimeoutError`.

    Args:
        timeout (float, optional): The configured timeout in seconds, for
            the message. Defaults to None.

    Raises:
        DistTimeoutError: Names the rank, the world size, the collective
            and what to do.
    """
    try:
        yield
    except RuntimeError as e:
        if isinstance(e, DistTimeoutError) or not is_timeout(e) or not (
                torch_dist.is_available() and torch_dist.is_initialized()):
            raise
        rank, world = torch_dist.get_rank(), torch_dist.get_world_size()
        limit = f'{timeout:g} s' if timeout is not None else 'its timeout'
        raise DistTimeoutError(
            f'Rank {rank} of {world} waited more than {limit} in '
            f'{describe_collective(e)}: another rank stopped answering '
            '(stalled, killed or crashed: see its log). If a step '
            'legitimately takes longer, raise env_cfg.dist_cfg.timeout '
            f'(seconds). Backend error: {e}') from e
