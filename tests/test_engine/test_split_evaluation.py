"""mmrrsis.engine.split_evaluation: checkpoints scored on one split."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.engine import (
    SplitMismatchError,
    benchmark_models,
    parse_model_spec,
    split_test_config,
)
from mmrrsis.engine.split_evaluation import check_same_split
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = 'configs/tiny/cmpc+_r18-tiny_refsegrs-64x64.py'


def test_parse_model_spec():
    assert parse_model_spec('a/b.py:c.pth') == dict(
        name='b', config='a/b.py', checkpoint='c.pth')
    assert parse_model_spec('CMPC+=a/b.py:x:y.pth') == dict(
        name='CMPC+', config='a/b.py', checkpoint='x:y.pth')
    for bad in ('a/b.py', 'b.pth', 'N=:c.pth', 'a/b.py:'):
        with pytest.raises(ValueError, match='CONFIG.py:CHECKPOINT'):
            parse_model_spec(bad)


def test_split_test_config_takes_the_split_and_refuses_other_metrics():
    cfg = Config.fromfile(osp.join(REPO, TINY))
    val = split_test_config(cfg, 'val', '/tmp/w', dict(area_bins=(0, 1)))
    assert val.test_dataloader.dataset.ann_file == 'output_phrase_val.txt'
    assert val.test_evaluator == dict(type='RRSISMetric', area_bins=(0, 1))
    assert 'train_dataloader' not in val and val.load_from is None
    assert 'visualization' not in val.default_hooks
    cfg.val_evaluator = dict(type='IoUMetric')
    with pytest.raises(ValueError, match='RRSISMetric only'):
        split_test_config(cfg, 'val', '/tmp/w', dict(area_bins=(0, 1)))
    with pytest.raises(ValueError, match='split must be one of'):
        split_test_config(cfg, 'testA', '/tmp/w')


def test_check_same_split_names_both_runs():
    runs = [dict(name='A', config='a.py', num_samples=5, fingerprint='x'),
            dict(name='B', config='b.py', num_samples=5, fingerprint='y')]
    with pytest.raises(SplitMismatchError, match='B \\(b.py\\).*A \\(a.py\\)'):
        check_same_split(runs)
    check_same_split(runs[:1] + [dict(runs[1], fingerprint='x')])


def _config_on(data_root: str, path: str) -> str:
    with open(path, 'w') as f:
        f.write(f"_base_ = [{osp.join(REPO, TINY)!r}]\n")
        for split in ('train', 'val', 'test'):
            f.write(f'{split}_dataloader = dict(dataset=dict('
                    f'data_root={data_root!r}))\n')
    return path


def test_models_on_different_samples_are_refused(tmp_path):
    init_default_scope('mmrrsis')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(REPO, TINY)).model)
    ckpt = str(tmp_path / 'm.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    roots = [str(tmp_path / 'a'), str(tmp_path / 'b')]
    make_synthetic_refsegrs(roots[0], 3, size=64, seed=1, show_progress=False)
    make_synthetic_refsegrs(roots[1], 3, size=64, seed=2, show_progress=False)
    a = _config_on(roots[0], str(tmp_path / 'a.py'))
    b = _config_on(roots[1], str(tmp_path / 'b.py'))
    with pytest.raises(SplitMismatchError,
                       match='on the same samples only'):
        benchmark_models([f'A={a}:{ckpt}', f'B={b}:{ckpt}'], 'val',
                         str(tmp_path / 'work'))
