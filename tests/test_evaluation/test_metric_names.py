"""The metric-name table of the README, row by row, on hand-computed cases,
and the GRES metrics as ReLA's evaluator computes them.

- sum I / sum U: our oIoU = LAVT's overall IoU = ReLA's and RSRefSeg2's
  cIoU = DiCoR's "gIoU";
- mean of the per-sample IoUs: our mIoU = RSRefSeg2's gIoU_1 = ReLA's gIoU
  when every sample has a target;
- mean of the per-category mIoUs: our category_mIoU = RSRefSeg2's "mIoU";
- an empty prediction of an empty target: IoU 0, as mmdet's RefSegMetric
  (NaN -> 0); under GRES a correct "no target": IoU 1.
- the share of samples with IoU >= X: our Prec@X = LAVT's precision@X;
  RSRefSeg2's seg_acc_X counts IoU > X (strictly).
"""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.evaluation import RRSISMetric, gres_summarize


def _sample(pred, gt, category=None, no_target=None, idx=0):
    """A data sample from 1-D masks (1 x N pixels)."""
    sample = SegDataSample(metainfo=dict(
        img_path=f'{idx}.png', ref_id=str(idx), sent_id=idx,
        category=category, no_target=no_target, text='x'))
    sample.pred_sem_seg = PixelData(
        data=torch.tensor([pred], dtype=torch.long)[None])
    sample.gt_sem_seg = PixelData(
        data=torch.tensor([gt], dtype=torch.long)[None])
    return sample


def _run(metric, samples):
    evaluator = Evaluator(metric)
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


# (pred, gt, category) and (I, U) counted by hand
TARGETED = [
    ([1, 1, 1, 1], [1, 1, 1, 0], 'car'),  # I=3, U=4, IoU .75
    ([1, 1, 1, 1], [1, 0, 0, 0], 'car'),  # I=1, U=4, IoU .25
    ([1, 1, 1, 1, 1, 1, 0, 0], [1] * 8, 'road'),  # I=6, U=8, IoU .75
]
EMPTY_EMPTY = ([0, 0, 0, 0], [0, 0, 0, 0], 'road')  # I=0, U=0


def _samples(cases):
    return [_sample(p, g, c, idx=i) for i, (p, g, c) in enumerate(cases)]


def test_oiou_is_ciou_and_dicors_giou():
    results = _run(RRSISMetric(), _samples(TARGETED))
    # (3 + 1 + 6) / (4 + 4 + 8)
    assert results['oIoU'] == 62.5
    # DiCoR's engine.py "gIoU": cum_I / (cum_U + 1e-6), the same number
    assert 100 * 10 / (16 + 1e-6) == pytest.approx(results['oIoU'],
                                                   abs=1e-4)


def test_miou_is_relas_giou_on_targeted_data_and_rsrefseg2_giou_1():
    results = _run(RRSISMetric(), _samples(TARGETED))
    # (.75 + .25 + .75) / 3
    assert results['mIoU'] == pytest.approx(58.33)
    # ReLA's gIoU: every sample has a target and none is predicted empty
    gres = _run(RRSISMetric(gres=True), _samples(TARGETED))
    assert gres['gIoU'] == results['mIoU']
    assert gres['cIoU'] == results['oIoU']  # and its cIoU is our oIoU
    # RSRefSeg2's gIoU_1: the mean of I_1 / U_1 over the images
    ious = torch.tensor([3 / 4, 1 / 4, 6 / 8])
    assert 100 * float(ious.mean()) == pytest.approx(results['mIoU'],
                                                     abs=0.005)


def test_rsrefseg2_miou_is_the_per_category_mean():
    results = _run(RRSISMetric(), _samples(TARGETED))
    # car: (.75 + .25) / 2 = .5; road: .75; mean of the two
    assert results['car_mIoU'] == 50.0 and results['road_mIoU'] == 75.0
    assert results['category_mIoU'] == 62.5
    assert results['category_mIoU'] != results['mIoU']


def test_empty_prediction_of_empty_target_scores_zero_as_mmdet():
    results = _run(RRSISMetric(), _samples(TARGETED + [EMPTY_EMPTY]))
    # mmdet RefSegMetric: IoU 0/0 = NaN, nan_to_num -> 0:
    # (.75 + .25 + .75 + 0) / 4
    assert results['mIoU'] == 43.75
    assert results['oIoU'] == 62.5  # U = 0 adds nothing
    # RSRefSeg2's per-image I / U is NaN there, its gIoU_1 NaN
    assert torch.tensor(0.) / torch.tensor(0.) != 0.  # NaN
    # GRES: an empty prediction of "no target" is right: IoU 1
    gres = _run(RRSISMetric(gres=True), _samples(TARGETED + [EMPTY_EMPTY]))
    assert gres['gIoU'] == 68.75  # (.75 + .25 + .75 + 1) / 4
    assert gres['mIoU'] == pytest.approx(58.33)  # targeted samples only


def test_prec_at_x_counts_an_iou_of_x_rsrefseg2_seg_acc_does_not():
    cases = [
        ([1, 1, 0, 0], [1, 0, 0, 0], 'car'),  # I=1, U=2, IoU exactly .5
        ([1, 1, 1, 1], [1, 1, 1, 0], 'car'),  # IoU .75
        ([1, 0, 0, 0], [1, 1, 1, 1], 'car'),  # IoU .25
    ]
    results = _run(RRSISMetric(), _samples(cases))
    # ours and LAVT's: IoU >= .5, two of three
    assert results['Prec@0.5'] == 66.67
    assert results['Prec@0.7'] == 33.33
    # RSRefSeg2's seg_acc_0.5: IoU > .5, one of three
    ious = torch.tensor([.5, .75, .25])
    assert 100 * float((ious > .5).float().mean()) == pytest.approx(33.33,
                                                                    abs=.01)
    assert 100 * float((ious >= .5).float().mean()) == pytest.approx(
        results['Prec@0.5'], abs=.01)


# ReLA's evaluator on six samples: (I, U) of the prediction as drawn,
# gt empty, pred empty
GRES_CASES = [
    (3, 4, False, False),  # A: target, found: TN, IoU .75
    (0, 2, False, True),   # B: target, predicted empty: FP, IoU 0, U=|gt|
    (0, 0, True, True),    # C: no target, predicted empty: TP, IoU 1
    (0, 5, True, False),   # D: no target, 5 px predicted: FN, IoU 0, U=5
    (0, 0, True, True),    # E: TP
    (2, 2, False, False),  # F: TN, IoU 1
]


def test_gres_summarize_by_hand():
    inter, union, gt_empty, pred_empty = map(np.array, zip(*GRES_CASES))
    res = gres_summarize(inter, union, gt_empty, pred_empty)
    assert (res['TP'], res['FN'], res['FP'], res['TN']) == (2, 1, 1, 2)
    assert res['gIoU'] == pytest.approx((.75 + 0 + 1 + 0 + 1 + 1) / 6)
    assert res['cIoU'] == pytest.approx((3 + 2) / (4 + 2 + 5 + 2))
    assert res['N-acc'] == pytest.approx(2 / 3)  # TP / (TP + FN)
    assert res['T-acc'] == pytest.approx(2 / 3)  # TN / (TN + FP)
    # Prec@X over A, B, F (IoU .75, 0, 1)
    assert res['Prec@0.7'] == pytest.approx(2 / 3)
    assert res['Prec@0.8'] == pytest.approx(1 / 3)
    # ReLA's code: T_acc = TP / (TP + FP + 1), N_acc = TP / (TP + FN + 1)
    rela = gres_summarize(inter, union, gt_empty, pred_empty,
                          nt_accuracy='rela')
    assert rela['T-acc'] == pytest.approx(2 / 4)
    assert rela['N-acc'] == pytest.approx(2 / 4)
    assert rela['gIoU'] == res['gIoU'] and rela['cIoU'] == res['cIoU']
    # without a no-target sample ReLA's code reports 0 for both
    none = gres_summarize([3], [4], [False], [False], nt_accuracy='rela')
    assert none['N-acc'] == none['T-acc'] == 0
    assert np.isnan(gres_summarize([3], [4], [False], [False])['N-acc'])
    with pytest.raises(ValueError, match='nt_accuracy'):
        gres_summarize([3], [4], [False], [False], nt_accuracy='mine')


def test_gres_through_the_metric():
    """The same six samples as masks; C is marked by ``no_target`` (as
    gRefCOCO's ann_id [-1] gives it), E only by an empty ground truth."""
    samples = [
        _sample([1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0], idx=0),  # A
        _sample([0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], idx=1),  # B
        _sample([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], no_target=True,
                idx=2),  # C
        _sample([1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0], no_target=True,
                idx=3),  # D
        _sample([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], idx=4),  # E
        _sample([1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], idx=5),  # F
    ]
    res = _run(RRSISMetric(gres=True, classwise=False), samples)
    assert res['gIoU'] == 62.5 and res['cIoU'] == 38.46
    assert res['N-acc'] == 66.67 and res['T-acc'] == 66.67
    assert (res['nt_TP'], res['nt_FN'], res['nt_FP'], res['nt_TN']) == (
        2, 1, 1, 2)
    # the classic scores over A, B, F
    assert res['oIoU'] == 62.5  # (3 + 0 + 2) / (4 + 2 + 2)
    assert res['mIoU'] == pytest.approx(58.33)
    assert res['Prec@0.7'] == 66.67
    rela = _run(RRSISMetric(gres=True, nt_accuracy='rela',
                            classwise=False), samples)
    assert rela['N-acc'] == 50.0 and rela['T-acc'] == 50.0
