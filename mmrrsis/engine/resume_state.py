"""What a checkpoint must hold, beyond weights, to resume a run exactly.

Two things, both stored as tensors, numbers, strings and lists only, so a
checkpoint loads with ``torch.load(weights_only=True)``:

- the random states of torch (CPU and every CUDA device), numpy and
  Python's ``random`` (:func:`get_rng_state`, :func:`set_rng_state`);
- the message hub, whose ``HistoryBuffer`` objects mmengine pickles in a
  way that needs ``builtins.getattr`` at load time
  (:func:`plain_message_hub`, :func:`message_hub_from_plain`).
"""
import random
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

#: Marks a HistoryBuffer stored as plain data.
HISTORY_TAG = '__history_buffer__'


def get_rng_state() -> Dict[str, Any]:
    """The random states of this process, as plain data.

    Returns:
        dict: ``torch`` (uint8 tensor), ``cuda`` (list of uint8 tensors,
        one per visible device; empty without CUDA), ``numpy`` (dict) and
        ``python`` (dict).
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, py_gauss = random.getstate()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [s.clone() for s in torch.cuda.get_rng_state_all()]
    return dict(
        torch=torch.get_rng_state(),
        cuda=cuda,
        numpy=dict(
            kind=kind,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            gauss=float(gauss)),
        python=dict(
            version=int(version),
            internal=torch.tensor(internal, dtype=torch.int64),
            gauss=py_gauss))


def set_rng_state(state: Dict[str, Any]) -> List[str]:
    """Restore random states saved by :func:`get_rng_state`.

    Args:
        state (dict): As returned by :func:`get_rng_state`.

    Returns:
        list[str]: What could not be restored (e.g. CUDA states saved on
        another number of devices), for a warning; empty when all was.
    """
    problems = []
    torch.set_rng_state(state['torch'].cpu())
    numpy_state = state['numpy']
    np.random.set_state(
        (numpy_state['kind'], numpy_state['keys'].numpy().astype(np.uint32),
         numpy_state['pos'], numpy_state['has_gauss'],
         numpy_state['gauss']))
    python_state = state['python']
    random.setstate((python_state['version'],
                     tuple(int(v) for v in python_state['internal']),
                     python_state['gauss']))
    cuda = state.get('cuda') or []
    if torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        else:
            problems.append(
                f'CUDA random states were saved for {len(cuda)} devices, '
                f'this process sees {torch.cuda.device_count()}')
    elif cuda:
        problems.append('CUDA random states were saved, but this process '
                        'has no CUDA device')
    return problems


def plain_message_hub(state: dict) -> dict:
    """A message hub state dict with every HistoryBuffer as plain data.

    Args:
        state (dict): ``MessageHub.state_dict()``.

    Returns:
        dict: The same, ``log_scalars`` values replaced by dicts with the
        logged values and counts (float64 tensors) and ``max_length``.
    """
    scalars = {}
    for key, value in state['log_scalars'].items():
        if isinstance(value, HistoryBuffer):
            log, count = value.data
            value = {
                HISTORY_TAG: True,
                'log': torch.from_numpy(np.asarray(log, dtype=np.float64)),
                'count': torch.from_numpy(np.asarray(count,
                                                     dtype=np.float64)),
                'max_length': int(value.max_length),
            }
        scalars[key] = value
    return dict(state, log_scalars=scalars)


def message_hub_from_plain(state: dict) -> dict:
    """Undo :func:`plain_message_hub` (other values are kept as they are).
    """
    scalars = {}
    for key, value in state.get('log_scalars', {}).items():
        if isinstance(value, dict) and value.get(HISTORY_TAG):
            value = HistoryBuffer(
                value['log'].tolist(),
                value['count'].tolist(),
                max_length=value['max_length'])
        scalars[key] = value
    return dict(state, log_scalars=scalars)
