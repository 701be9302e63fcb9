"""BinaryLogisticLoss (the references' weighed_logistic_loss) and the Dice
of one-logit heads."""
import pytest
import torch
import torch.nn.functional as F

from mmrrsis.models.losses import BinaryLogisticLoss, TargetDiceLoss


def test_sum_over_each_image_mean_over_images():
    logits = torch.randn(2, 1, 3, 4)
    label = torch.randint(0, 2, (2, 3, 4))
    label[1, 0, 0] = 255
    bce = F.binary_cross_entropy_with_logits(
        logits[:, 0], label.clamp(max=1).float(), reduction='none')
    bce[1, 0, 0] = 0
    loss = BinaryLogisticLoss(loss_weight=0.6)(logits, label)
    torch.testing.assert_close(loss, 0.6 * bce.flatten(1).sum(1).mean())
    mean = BinaryLogisticLoss(reduction='mean')(logits, label)
    torch.testing.assert_close(mean, bce.sum() / 23)
    weighted = BinaryLogisticLoss(pos_weight=2.)(logits, label)
    w = 1 + (label == 1).float()
    torch.testing.assert_close(weighted,
                               (bce * w).flatten(1).sum(1).mean())


def test_refuses_two_class_logits():
    with pytest.raises(ValueError, match='one logit per pixel'):
        BinaryLogisticLoss()(torch.randn(1, 2, 3, 3),
                             torch.zeros(1, 3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='reduction'):
        BinaryLogisticLoss(reduction='sum')


def test_target_dice_reads_one_logit_as_sigmoid():
    logits = torch.randn(2, 1, 4, 4)
    label = torch.randint(0, 2, (2, 4, 4))
    one = TargetDiceLoss()(logits, label)
    two = TargetDiceLoss()(torch.cat([torch.zeros_like(logits), logits], 1),
                           label)
    torch.testing.assert_close(one, two)
