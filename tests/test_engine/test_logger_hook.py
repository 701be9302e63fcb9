"""RRSISLoggerHook: the test metrics file is written by the main process
only (mmengine's hook writes it from every rank into one shared file)."""
import json
import os
from types import SimpleNamespace

from mmengine.config import Config

import mmrrsis.engine.logger_hook as logger_hook_module
from mmrrsis.engine import RRSISLoggerHook
from mmrrsis.registry import HOOKS

RUNTIME = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    'configs/_base_/default_runtime.py')


class _LogProcessor:

    def get_log_after_epoch(self, runner, batch_idx, mode,
                            with_non_scalar=False):
        assert (batch_idx, mode, with_non_scalar) == (3, 'test', True)
        return dict(oIoU=41.25, mIoU=40.5), 'Epoch(test) [3/3] oIoU: 41.25'


class _Logger:

    def __init__(self):
        self.lines = []

    def info(self, line):
        self.lines.append(line)


def _runner(tmp_path):
    return SimpleNamespace(
        log_processor=_LogProcessor(),
        test_dataloader=[0, 1, 2],
        logger=_Logger(),
        log_dir=str(tmp_path))


def _hook():
    hook = RRSISLoggerHook()
    hook.json_log_path = '20261128_000000.json'  # set by before_run
    return hook


def test_main_process_logs_and_writes_the_metrics(tmp_path):
    runner = _runner(tmp_path)
    _hook().after_test_epoch(runner)
    with open(tmp_path / '20261128_000000.json') as f:
        assert json.load(f) == dict(oIoU=41.25, mIoU=40.5)
    assert runner.logger.lines == ['Epoch(test) [3/3] oIoU: 41.25']


def test_other_ranks_log_but_do_not_write(tmp_path, monkeypatch):
    monkeypatch.setattr(logger_hook_module, 'is_main_process', lambda: False)
    runner = _runner(tmp_path)
    _hook().after_test_epoch(runner)
    assert os.listdir(tmp_path) == []
    assert runner.logger.lines == ['Epoch(test) [3/3] oIoU: 41.25']


def test_default_runtime_uses_it():
    cfg = Config.fromfile(RUNTIME).default_hooks.logger
    hook = HOOKS.build(cfg)
    assert type(hook) is RRSISLoggerHook
    assert hook.interval == 50 and hook.log_metric_by_epoch
