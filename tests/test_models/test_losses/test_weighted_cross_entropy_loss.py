import torch
import torch.nn.functional as F

from mmrrsis.models.losses import WeightedCrossEntropyLoss


def test_equals_torch_weighted_mean_and_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 8, 8)
    label = (torch.rand(2, 8, 8) > 0.6).long()
    loss = WeightedCrossEntropyLoss(class_weight=[0.9, 1.1])
    assert loss.loss_name == 'loss_ce'
    weight = torch.tensor([0.9, 1.1])
    torch.testing.assert_close(
        loss(logits, label), F.cross_entropy(logits, label, weight=weight))
    # padded pixels (255) are ignored, no crash
    padded = label.clone()
    padded[:, -2:] = 255
    torch.testing.assert_close(
        loss(logits, padded),
        F.cross_entropy(logits, padded, weight=weight, ignore_index=255))
    # loss_weight and pixel weights
    double = WeightedCrossEntropyLoss(loss_weight=2.)
    torch.testing.assert_close(
        double(logits, label), 2 * F.cross_entropy(logits, label))
    ones = torch.ones(2, 8, 8)
    torch.testing.assert_close(
        loss(logits, label, weight=ones), loss(logits, label))
