"""The localization guide's loss: supervision regions, evidence, winner."""
import math

import pytest
import torch

from mmrrsis.models.losses import LocalizationLoss


def test_supervision_regions():
    loss = LocalizationLoss()
    target = torch.zeros(2, 64, 64, dtype=torch.long)
    target[0, 8:16, 40:48] = 1  # 64 px -> area 4 cells on a 16x16 grid
    target[0, 0:4, 0:4] = 255  # padding counts as background
    sam = [torch.zeros(1, 64, 64), None]
    sam[0][0, 50:58, 4:12] = 1
    sup = loss.supervision(target, (16, 16), sam)
    assert sup['valid'].tolist() == [True, False]
    assert sup['center'][0].tolist() == pytest.approx([2.5, 10.5])
    assert sup['area_ratio'][0] == pytest.approx(64 / 4096)
    pos, far, weak = sup['pos'][0], sup['far_bg'][0], sup['weak_neg'][0]
    radius = max(math.sqrt(4 / math.pi), 1)
    assert pos.sum() > 0 and (pos * far).sum() == 0
    assert (pos * weak).sum() == 0 and (far * weak).sum() == 0
    assert weak[12:15, 0:4].sum() > 0  # around the SAM mask
    ys, xs = torch.nonzero(pos, as_tuple=True)
    assert (((ys - 2.5)**2 + (xs - 10.5)**2).sqrt() <= radius).all()
    for key in ('pos', 'far_bg', 'weak_neg'):
        assert (sup[key][1] == 0).all()


def details(num=2, scores=None):
    gen = torch.Generator().manual_seed(0)
    maps = torch.zeros(num, 3, 16, 16)
    maps[:, 0, 2:4, 10:12] = 0.25  # at the first sample's target
    maps[:, 1, 12, 2] = 1.
    centers = torch.tensor([[[3., 11.], [12., 2.], [0., 0.]]]).repeat(
        num, 1, 1)
    valid = torch.tensor([[True, True, False]]).repeat(num, 1)
    return dict(
        evidence_logit=torch.randn(num, 1, 16, 16, generator=gen,
                                   requires_grad=True),
        cand_maps=maps,
        cand_centers=centers,
        cand_valid=valid,
        scores=torch.zeros(num, 3, requires_grad=True)
        if scores is None else scores)


def test_winner_term_targets_the_candidate_at_the_object():
    loss = LocalizationLoss()
    target = torch.zeros(2, 64, 64, dtype=torch.long)
    target[0, 8:16, 40:48] = 1
    target[1, :, :] = 1  # too large: no winner supervision
    d = details()
    out = loss(d, target)
    assert set(out) == {'loss_loc_evidence', 'loss_loc_winner'}
    # only sample 0 counts, its target is candidate 0: CE of equal scores
    # over 3 candidates (the invalid one at -1e4 in the model; here 0)
    assert out['loss_loc_winner'].item() == pytest.approx(1.2 * math.log(3))
    (out['loss_loc_evidence'] + out['loss_loc_winner']).backward()
    assert d['evidence_logit'].grad.abs().sum() > 0
    assert d['scores'].grad[0].abs().sum() > 0
    assert (d['scores'].grad[1] == 0).all()


def test_nothing_to_supervise_gives_zero_on_the_graph():
    loss = LocalizationLoss()
    d = details()
    out = loss(d, torch.zeros(2, 64, 64, dtype=torch.long))
    assert out['loss_loc_evidence'] == 0 and out['loss_loc_winner'] == 0
    sum(out.values()).backward()
    assert d['scores'].grad is not None
