"""RRSISMetric against hand-computed values on small masks."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from PIL import Image

from mmrrsis.evaluation import (
    RRSISMetric,
    intersection_and_union,
    summarize,
)
from mmrrsis.registry import METRICS


def mask(shape, *boxes):
    """A (H, W) long mask with 1 inside each (y0, y1, x0, x1) box."""
    out = torch.zeros(shape, dtype=torch.long)
    for y0, y1, x0, x1 in boxes:
        out[y0:y1, x0:x1] = 1
    return out


def make_sample(pred, gt=None, category=None, idx=0, logits=None):
    sample = SegDataSample(
        metainfo=dict(
            img_path=f'data/images/{idx}.tif',
            ref_id=str(idx),
            sent_id=idx,
            category=category,
            ori_shape=tuple(pred.shape),
            text='the car'))
    sample.pred_sem_seg = PixelData(data=pred[None])
    if gt is not None:
        sample.gt_sem_seg = PixelData(data=gt[None])
    if logits is not None:
        sample.seg_logits = PixelData(data=logits)
    return sample


def pixels(shape, *points):
    """A (H, W) long mask with 1 at each (y, x)."""
    out = torch.zeros(shape, dtype=torch.long)
    for y, x in points:
        out[y, x] = 1
    return out


# (pred, gt, category, I, U) on 4x4 masks, counted by hand
S = (4, 4)
CASES = [
    # 4 predicted, 6 true, 3 shared: I=3, U=7, IoU=3/7
    (mask(S, (0, 2, 0, 2)),
     pixels(S, (0, 0), (0, 1), (1, 0), (3, 1), (3, 2), (3, 3)), 'car', 3, 7),
    # empty ground truth, 2 predicted: I=0, U=2
    (mask(S, (0, 1, 0, 2)), mask(S), None, 0, 2),
    # empty prediction, 3 true: I=0, U=3
    (mask(S), mask(S, (1, 4, 0, 1)), None, 0, 3),
    # both empty: I=0, U=0, IoU counted as 0
    (mask(S), mask(S), None, 0, 0),
    # perfect, 5 pixels
    (mask(S, (0, 1, 0, 4), (1, 2, 0, 1)),
     mask(S, (0, 1, 0, 4), (1, 2, 0, 1)), 'car', 5, 5),
    # I=4, U=5: IoU exactly 0.8
    (mask(S, (0, 1, 0, 4), (1, 2, 0, 1)), mask(S, (0, 1, 0, 4)),
     'road marking', 4, 5),
    # 8 predicted, 8 true, 6 shared: I=6, U=10, IoU exactly 0.6
    (mask(S, (0, 2, 0, 4)), mask(S, (0, 1, 0, 4), (1, 3, 0, 2)),
     'road marking', 6, 10),
]


def test_cases_are_counted_by_hand():
    for pred, gt, _, inter, union in CASES:
        assert set(gt.unique().tolist()) <= {0, 1}
        assert intersection_and_union(pred, gt) == (inter, union)


def run_metric(metric, samples, size=None):
    evaluator = Evaluator(metric)
    evaluator.process(samples)
    return evaluator.evaluate(size if size is not None else len(samples))


def test_hand_computed_values():
    samples = [
        make_sample(pred, gt, cat, idx)
        for idx, (pred, gt, cat, _, _) in enumerate(CASES)
    ]
    results = run_metric(METRICS.build(dict(type='RRSISMetric')), samples)
    # I = 3+0+0+0+5+4+6 = 18, U = 7+2+3+0+5+5+10 = 32
    assert results['oIoU'] == pytest.approx(56.25)
    # IoUs 3/7, 0, 0, 0, 1, 0.8, 0.6
    assert results['mIoU'] == pytest.approx(
        100 * (3 / 7 + 1 + 0.8 + 0.6) / 7, abs=0.005)
    assert results['Prec@0.5'] == pytest.approx(300 / 7, abs=0.005)
    assert results['Prec@0.6'] == pytest.approx(300 / 7, abs=0.005)
    assert results['Prec@0.7'] == pytest.approx(200 / 7, abs=0.005)
    assert results['Prec@0.8'] == pytest.approx(200 / 7, abs=0.005)
    assert results['Prec@0.9'] == pytest.approx(100 / 7, abs=0.005)
    # car: I=3+5, U=7+5; road marking: I=4+6, U=5+10
    assert results['car_oIoU'] == pytest.approx(66.67)
    assert results['car_mIoU'] == pytest.approx(50 * (3 / 7 + 1), abs=0.005)
    assert results['road_marking_oIoU'] == pytest.approx(66.67)
    assert results['road_marking_mIoU'] == pytest.approx(70.0)
    assert len(results) == 7 + 4


def test_classwise_off_and_custom_thresholds():
    samples = [
        make_sample(pred, gt, cat, idx)
        for idx, (pred, gt, cat, _, _) in enumerate(CASES)
    ]
    results = run_metric(
        RRSISMetric(classwise=False, prec_thresholds=(0.25, 1.0)), samples)
    assert sorted(results) == ['Prec@0.25', 'Prec@1.0', 'mIoU', 'oIoU']
    assert results['Prec@0.25'] == pytest.approx(400 / 7, abs=0.005)
    assert results['Prec@1.0'] == pytest.approx(100 / 7, abs=0.005)


def test_only_empty_masks():
    results = summarize(np.array([0, 0]), np.array([0, 0]))
    assert results['oIoU'] == 0.0 and results['mIoU'] == 0.0
    assert results['Prec@0.5'] == 0.0


def test_ignore_index_pixels_are_not_counted():
    gt = mask(S, (0, 2, 0, 2))
    gt[3, :] = 255
    pred = mask(S, (0, 2, 0, 1), (3, 4, 0, 4))  # 2 hits + 4 on ignored
    assert intersection_and_union(pred, gt) == (2, 4)


def test_non_binary_ground_truth_is_an_error():
    gt = mask(S, (0, 2, 0, 2)) * 200
    with pytest.raises(ValueError, match='binary'):
        intersection_and_union(mask(S), gt)


def test_padded_duplicates_are_dropped():
    # the distributed sampler pads the last batch by repeating samples;
    # evaluate(size) keeps the first `size` per-sample results
    samples = [
        make_sample(pred, gt, cat, idx)
        for idx, (pred, gt, cat, _, _) in enumerate(CASES[:3])
    ]
    padded = samples + [samples[0]]
    assert run_metric(RRSISMetric(), padded, size=3) == run_metric(
        RRSISMetric(), samples)
    # I = 3, U = 12
    assert run_metric(RRSISMetric(), padded, size=3)['oIoU'] == 25.0


def test_original_resolution_needs_original_gt():
    sample = make_sample(mask((8, 8)), mask(S))
    with pytest.raises(ValueError, match='after Resize'):
        run_metric(RRSISMetric(), [sample])


def test_network_resolution_resizes_logits_like_the_reference():
    # logits at the original 8x8 size; target channel wins on the top-left
    # 4x4 block, i.e. the top-left 2x2 block at the 4x4 network size
    logits = torch.zeros(2, 8, 8)
    logits[0] = 1.0
    logits[1, :4, :4] = 2.0
    pred = logits.argmax(0)
    gt = mask(S, (0, 2, 0, 2))
    sample = make_sample(pred, gt, logits=logits)
    results = run_metric(RRSISMetric(resolution='network'), [sample])
    assert results['oIoU'] == 100.0
    # without logits, the mask is resized with nearest neighbours
    gt = mask(S, (0, 2, 0, 1))
    sample = make_sample(pred, gt)
    results = run_metric(RRSISMetric(resolution='network'), [sample])
    assert results['oIoU'] == 50.0
    # already at the network size: used as is
    sample = make_sample(mask(S, (0, 1, 0, 1)), mask(S, (0, 1, 0, 2)))
    results = run_metric(RRSISMetric(resolution='network'), [sample])
    assert results['oIoU'] == 50.0


def test_format_only_writes_named_masks(tmp_path):
    out = tmp_path / 'preds'
    samples = [make_sample(mask(S, (0, 1, 0, 2)), idx=3)]
    samples[0].set_metainfo(dict(img_path='imgs/tile_07.tif', ref_id=11))
    results = run_metric(
        RRSISMetric(format_only=True, output_dir=str(out)), samples)
    assert results == {}
    saved = np.array(Image.open(out / 'tile_07_11_3.png'))
    assert saved.dtype == np.uint8 and saved.shape == (4, 4)
    assert saved.sum() == 2 * 255 and saved[0, :2].tolist() == [255, 255]


def test_output_dir_while_evaluating(tmp_path):
    pred, gt, cat, _, _ = CASES[0]
    results = run_metric(
        RRSISMetric(output_dir=str(tmp_path)), [make_sample(pred, gt, cat)])
    # RefSegRS: the image name is the ref id, so it is not repeated
    assert osp.isfile(tmp_path / '0_0.png')
    assert results['oIoU'] == pytest.approx(42.86)


def test_bad_arguments():
    with pytest.raises(ValueError, match='resolution'):
        RRSISMetric(resolution='480')
    with pytest.raises(ValueError, match='output_dir'):
        RRSISMetric(format_only=True)
    with pytest.raises(ValueError, match='prec_thresholds'):
        RRSISMetric(prec_thresholds=(50, ))
    with pytest.raises(KeyError, match='gt_sem_seg'):
        run_metric(RRSISMetric(), [make_sample(mask(S))])


def test_small_target_scores():
    samples = [
        make_sample(pred, gt, cat, idx)
        for idx, (pred, gt, cat, _, _) in enumerate(CASES)
    ]
    # target areas of the 16-pixel masks: 6, 0, 3, 0, 5, 4, 8 pixels; under
    # 25% (4 pixels) are CASES[1:4] (IoU 0, 0, 0), under 30% (4.8 pixels)
    # also CASES[5] (I=4, U=5)
    results = run_metric(RRSISMetric(small_area=0.25), samples)
    assert results['small_samples'] == 3
    assert results['small_oIoU'] == 0.0
    assert results['small_mIoU'] == 0.0
    results = run_metric(RRSISMetric(small_area=0.3), samples)
    assert results['small_samples'] == 4
    # I = 0+0+0+4, U = 2+3+0+5
    assert results['small_oIoU'] == pytest.approx(40.0)
    assert results['small_mIoU'] == pytest.approx(20.0)
    assert results['small_Prec@0.8'] == pytest.approx(25.0)
    # the overall scores are unchanged by the option
    assert results['oIoU'] == pytest.approx(56.25)
    with pytest.raises(ValueError, match='small_area'):
        RRSISMetric(small_area=0)
