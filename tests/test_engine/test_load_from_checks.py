"""RRSISRunner checks the weights it loads (load_from, resume) as the
inference path does: values, dtypes, keys and shapes; a partial load is
asked for with ``load_from_strict=False`` and logs every key skipped."""
import itertools
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel

from mmrrsis.apis import CheckpointMismatchError
from mmrrsis.compat import CorruptCheckpointError
from mmrrsis.engine import RRSISRunner

_NAMES = itertools.count()


class TwoLayers(BaseModel):

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(4, 3)
        self.second = nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.second(self.first(inputs))


def _runner(tmp_path, checkpoint, **cfg):
    torch.manual_seed(0)
    path = tmp_path / 'load_from.pth'
    torch.save(checkpoint, path)
    return RRSISRunner(
        model=TwoLayers(), work_dir=str(tmp_path / 'work'),
        experiment_name=f'load_from{next(_NAMES)}', load_from=str(path),
        default_scope='mmrrsis', cfg=dict(cfg))


def _state(**changes):
    torch.manual_seed(1)
    state = dict(TwoLayers().state_dict())
    state.update(changes)
    return dict(state_dict=state)


@pytest.mark.parametrize('value, error, names', [
    (torch.tensor([[float('nan')] * 3]), CorruptCheckpointError, 'NaN'),
    (torch.full((1, 3), 1.97e37), CorruptCheckpointError, 'above 1e+06'),
    (torch.ones(1, 3, dtype=torch.int64), CheckpointMismatchError,
     'second.weight (int64 vs float32)'),
    (torch.ones(2, 3), CheckpointMismatchError,
     'second.weight (2, 3) vs (1, 3)'),
])
def test_bad_tensors_are_refused_naming_them(tmp_path, value, error, names):
    runner = _runner(tmp_path, _state(**{'second.weight': value}))
    with pytest.raises(error) as info:
        runner.load_or_resume()
    assert 'second.weight' in str(info.value) and names in str(info.value)


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_keys_are_strict_unless_a_partial_load_is_asked(tmp_path):
    checkpoint = _state(**{'second.weight': torch.ones(2, 3),
                           'third.weight': torch.ones(1)})
    del checkpoint['state_dict']['first.bias']
    with pytest.raises(CheckpointMismatchError) as info:
        _runner(tmp_path, checkpoint).load_or_resume()
    message = str(info.value)
    for part in ('first.bias', 'third.weight', 'second.weight (2, 3)',
                 'load_from_strict=False'):
        assert part in message
    runner = _runner(tmp_path, checkpoint, load_from_strict=False)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    records = _Records()
    runner.logger.addHandler(records)  # MMLogger does not propagate
    try:
        runner.load_or_resume()
    finally:
        runner.logger.removeHandler(records)
    logged = '\n'.join(records.messages)
    assert '3 keys' in logged and 'skipped' in logged
    for part in ('first.bias (missing', 'third.weight (unknown',
                 'second.weight (2, 3) vs (1, 3)'):
        assert part in logged
    after = runner.model.state_dict()
    loaded = checkpoint['state_dict']
    assert torch.equal(after['first.weight'], loaded['first.weight'])
    assert torch.equal(after['second.bias'], loaded['second.bias'])
    for key in ('first.bias', 'second.weight'):  # kept their initial values
        assert torch.equal(after[key], before[key])
    # dtypes are refused even for a partial load
    bad = _state(**{'first.weight': torch.ones(3, 4, dtype=torch.int32)})
    with pytest.raises(CheckpointMismatchError, match='first.weight'):
        _runner(tmp_path, bad, load_from_strict=False).load_or_resume()
