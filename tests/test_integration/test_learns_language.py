"""End to end: a tiny LGCE model trained on a tiny generated set learns
the task and uses the expression.

Untrained, trained and trained-with-shuffled-expressions scores on the
validation split of the same generated set (seeded, one thread, so the run
is the same every time on a machine). This is the slowest test of the
suite (two to three minutes of training on one free core).
"""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.engine import RRSISRunner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
NUM_IMAGES = 60
ITERS = 1000
LR = 3e-3


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_cfg(root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(CONFIG)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
        cfg[key].batch_size = 8
    cfg.val_dataloader.dataset.ann_file = 'output_phrase_val.txt'
    cfg.model.backbone.drop_path_rate = 0.
    cfg.model.decode_head.loss_decode = [
        dict(type='WeightedCrossEntropyLoss', class_weight=[0.9, 1.1]),
        dict(type='TargetDiceLoss')
    ]
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=ITERS, val_interval=ITERS + 1)
    cfg.optim_wrapper.optimizer.lr = LR
    cfg.param_scheduler = [
        dict(type='PolyLR', power=0.9, begin=0, end=ITERS, by_epoch=False)
    ]
    cfg.log_processor = dict(by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=100)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=ITERS + 1, save_last=False)
    cfg.default_hooks.pop('visualization')
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    return cfg


def test_tiny_model_learns_and_reads_the_expression(tmp_path, one_thread):
    root = str(tmp_path / 'data')
    make_synthetic_refsegrs(
        root, NUM_IMAGES, size=64, seed=0, show_progress=False)
    cfg = tiny_cfg(root, str(tmp_path / 'work'))
    runner = RRSISRunner.from_cfg(cfg)

    untrained = runner.val()
    runner.train()
    trained = runner.val()
    shuffled_loader = copy.deepcopy(cfg.val_dataloader)
    shuffled_loader.dataset = dict(
        type='ShuffledTextDataset', dataset=shuffled_loader.dataset, seed=0)
    runner._val_dataloader = shuffled_loader
    runner._val_loop = dict(type='ValLoop')
    shuffled = runner.val()

    print('mIoU untrained / trained / shuffled:', untrained['mIoU'],
          trained['mIoU'], shuffled['mIoU'])
    assert trained['mIoU'] >= untrained['mIoU'] + 5
    assert trained['oIoU'] >= untrained['oIoU'] + 15
    # the same images with other samples' expressions: clearly worse
    assert shuffled['mIoU'] <= trained['mIoU'] - 4
    assert shuffled['oIoU'] <= trained['oIoU'] - 15
