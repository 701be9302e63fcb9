"""The refiner's loss and its focus map."""
import pytest
import torch

from mmrrsis.models.losses import RefinerLoss, focus_map


def test_focus_radius_follows_the_mask_area():
    prob = torch.zeros(3, 1, 100, 100)
    prob[0, 0, 50, 50] = 0.9  # 1 px: small -> radius 6
    prob[1, 0, 40:50, 40:50] = 0.9  # 1%: medium -> 12
    prob[2, 0, 20:80, 20:80] = 0.9  # 36%: large -> 18
    fmap = focus_map(prob)
    assert fmap.shape == prob.shape and fmap.max() <= 1
    # 0.7 focus + 0.2 band (+ 0.1 uncertainty where 0 < p < 1)
    assert fmap[0, 0, 50, 54] == pytest.approx(0.9)  # band: 50 +- 1 + 3
    assert fmap[0, 0, 50, 56] == pytest.approx(0.7)
    assert fmap[0, 0, 50, 57] == pytest.approx(0.0)
    assert fmap[1, 0, 45, 61] == pytest.approx(0.7)
    assert fmap[1, 0, 45, 62] == pytest.approx(0.0)
    assert fmap[2, 0, 50, 97] == pytest.approx(0.7)
    assert fmap[2, 0, 50, 98] == pytest.approx(0.0)


def test_loss_terms():
    loss = RefinerLoss()
    prob = torch.full((2, 1, 32, 32), 0.2)
    prob[:, :, 8:16, 8:16] = 0.8
    target = torch.zeros(2, 32, 32, dtype=torch.long)
    target[:, 8:16, 8:18] = 1
    target[1, 0, :] = 255
    delta = torch.zeros(2, 2, 32, 32, requires_grad=True)
    logits = torch.log(torch.cat([1 - prob, prob], 1)) + delta
    out = loss(logits, delta, prob, target)
    assert set(out) == {'loss_refine_ce', 'loss_refine_dice',
                        'loss_refine_inhibit'}
    assert out['loss_refine_inhibit'] == 0
    assert 0 < out['loss_refine_dice'] < 1 and out['loss_refine_ce'] > 0
    sum(out.values()).backward()
    assert delta.grad.abs().sum() > 0
    # a correction outside the focus is penalised
    far = torch.zeros(2, 2, 32, 32)
    far[:, :, 28:, 28:] = 3.
    assert loss(logits.detach() + far, far, prob,
                target)['loss_refine_inhibit'] > 0
