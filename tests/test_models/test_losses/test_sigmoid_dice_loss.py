import pytest
import torch

from mmrrsis.models.losses import SigmoidDiceLoss


def test_per_sample_vnet_dice():
    logits = torch.randn(2, 1, 8, 8)
    label = (torch.rand(2, 8, 8) > 0.5).long()
    loss = SigmoidDiceLoss(eps=1e-3, loss_weight=2.0)(logits, label)
    p = logits[:, 0].sigmoid().flatten(1)
    g = label.flatten(1).float()
    d = 2 * (p * g).sum(1) / ((p * p).sum(1) + 1e-3 + (g * g).sum(1) + 1e-3)
    torch.testing.assert_close(loss, 2.0 * (1 - d).mean())


def test_ignored_pixels_count_nowhere():
    logits = torch.randn(1, 1, 4, 4)
    label = torch.ones(1, 4, 4, dtype=torch.long)
    padded = label.clone()
    padded[:, 2:] = 255
    logits_padded = logits.clone()
    logits_padded[..., 2:, :] = 50.  # predictions there must not matter
    loss = SigmoidDiceLoss()
    torch.testing.assert_close(
        loss(logits_padded, padded),
        loss(logits[..., :2, :], label[:, :2]))


def test_one_channel_only():
    with pytest.raises(ValueError, match='one logit channel'):
        SigmoidDiceLoss()(torch.randn(1, 2, 4, 4), torch.zeros(1, 4, 4))
