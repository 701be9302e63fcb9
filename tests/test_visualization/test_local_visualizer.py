"""RRSISLocalVisualizer and RRSISVisualizationHook."""
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.registry import HOOKS, VISUALIZERS
from mmrrsis.visualization import (
    RRSISLocalVisualizer,
    RRSISVisualizationHook,
    wrap_text,
)

GRAY = 100


def make_sample(text='the red car near the building', idx=0, img_path=''):
    sample = SegDataSample(
        metainfo=dict(
            text=text, img_path=img_path, ref_id=7, sent_id=idx))
    pred = torch.zeros(1, 32, 48, dtype=torch.long)
    pred[:, 4:12, 4:20] = 1
    gt = torch.zeros(1, 16, 24, dtype=torch.long)  # half size: resized
    gt[:, 8:12, 12:20] = 1
    sample.pred_sem_seg = PixelData(data=pred)
    sample.gt_sem_seg = PixelData(data=gt)
    return sample


@pytest.fixture
def visualizer():
    return VISUALIZERS.build(
        dict(
            type='RRSISLocalVisualizer',
            name=f'vis_{np.random.randint(1e9)}',
            alpha=0.5))


def test_draws_gt_and_pred_side_by_side_with_text(visualizer):
    image = np.full((32, 48, 3), GRAY, dtype=np.uint8)
    drawn = visualizer.draw_referring(image, make_sample())
    assert drawn.dtype == np.uint8
    assert drawn.shape[1] == 96 and drawn.shape[0] > 32
    gt_panel, pred_panel = drawn[:32, :48], drawn[:32, 48:]
    # prediction tinted red inside (rows 4-11, cols 4-19) ...
    inner = pred_panel[7, 10]
    assert inner[0] > GRAY + 50 and inner[1] < GRAY and inner[2] < GRAY
    # ... untouched outside
    assert (pred_panel[25:, 25:] == GRAY).all()
    # gt at half size was resized: rows 16-23, cols 24-39, green
    assert pred_panel[20, 30].tolist() == [GRAY] * 3
    assert gt_panel[20, 30, 1] > GRAY + 50 and gt_panel[20, 30, 0] < GRAY
    assert (gt_panel[28:, 42:] == GRAY).all()
    # text band below: white with dark text pixels
    band = drawn[32:]
    assert (band == 255).mean() > 0.5 and (band < 100).any()


def test_prediction_only_and_no_text(visualizer):
    image = np.full((32, 48, 3), GRAY, dtype=np.uint8)
    drawn = visualizer.draw_referring(
        image, make_sample(), draw_gt=False, with_text=False)
    assert drawn.shape == (32, 48, 3)
    assert drawn[7, 10, 0] > GRAY + 50


def test_add_datasample_writes_file(visualizer, tmp_path):
    image = np.full((32, 48, 3), GRAY, dtype=np.uint8)
    out = str(tmp_path / 'vis.png')
    visualizer.add_datasample(
        'x', image, make_sample(), draw_gt=False, out_file=out)
    saved = cv2.imread(out)  # BGR
    assert saved.shape[1] == 48 and saved.shape[0] > 32
    assert saved[7, 10, 2] > GRAY + 50  # red in BGR is the last channel


def test_wrap_text_fits_width():
    lines = wrap_text('a very long expression about a building ' * 3, 120,
                      0.5, 1)
    assert len(lines) > 2
    for line in lines:
        width = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)[0][0]
        assert width <= 120
    assert wrap_text('caf\u00e9', 500, 0.5, 1) == ['caf?']


def test_hook_writes_one_file_per_expression(tmp_path):
    img_path = str(tmp_path / 'tile.png')
    cv2.imwrite(img_path, np.full((32, 48, 3), GRAY, dtype=np.uint8))
    RRSISLocalVisualizer.get_instance(
        f'hook_vis_{np.random.randint(1e9)}', save_dir=None)
    hook = HOOKS.build(
        dict(type='RRSISVisualizationHook', draw=True,
             test_out_dir='show'))
    assert isinstance(hook, RRSISVisualizationHook)
    runner = SimpleNamespace(
        work_dir=str(tmp_path), timestamp='20260101_000000', iter=0)
    outputs = [make_sample('the car', 0, img_path),
               make_sample('the road', 1, img_path)]
    hook.after_test_iter(runner, 0, {}, outputs)
    out_dir = osp.join(tmp_path, '20260101_000000', 'show')
    assert sorted(p for p in __import__('os').listdir(out_dir)) == [
        'tile_7_0.png', 'tile_7_1.png'
    ]
    # not drawn when draw is False
    hook.draw = False
    hook.test_out_dir = str(tmp_path / 'off')
    hook.after_test_iter(runner, 0, {}, outputs)
    assert not osp.exists(tmp_path / 'off')


def test_hook_in_validation_sends_to_backends(tmp_path):
    img_path = str(tmp_path / 'tile.png')
    cv2.imwrite(img_path, np.full((32, 48, 3), GRAY, dtype=np.uint8))
    RRSISLocalVisualizer.get_instance(
        f'val_vis_{np.random.randint(1e9)}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path / 'logs'))
    hook = RRSISVisualizationHook(draw=True, interval=2)
    runner = SimpleNamespace(work_dir=str(tmp_path), timestamp='t', iter=7)
    outputs = [make_sample('the car', 0, img_path)]
    hook.after_val_iter(runner, 0, {}, outputs)  # batch 1: skipped
    hook.after_val_iter(runner, 1, {}, outputs)  # batch 2: drawn
    saved = sorted(
        __import__('os').listdir(tmp_path / 'logs' / 'vis_data' /
                                 'vis_image'))
    assert saved == ['val_tile_7_0_7.png']
