import pytest
import torch

from mmrrsis.models.losses import SoftmaxDiceLoss


def reference_dice(logits, label, smooth=1e-6):
    """RMSIN's Dice written out: one-hot targets, softmax over classes,
    1 - dice per (sample, class), summed."""
    prob = logits.softmax(1)
    total = 0.
    for b in range(logits.shape[0]):
        for k in range(logits.shape[1]):
            target = (label[b] == k).float()
            inter = (prob[b, k] * target).sum()
            union = prob[b, k].sum() + target.sum()
            total = total + 1 - (2 * inter + smooth) / (union + smooth)
    return total


def test_sum_over_batch_and_classes():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 2, 5, 6, generator=gen)
    label = (torch.rand(3, 5, 6, generator=gen) > 0.6).long()
    loss = SoftmaxDiceLoss()(logits, label)
    torch.testing.assert_close(loss, reference_dice(logits, label))
    # mean: the same terms averaged; loss_weight scales
    torch.testing.assert_close(
        SoftmaxDiceLoss(reduction='mean', loss_weight=0.1)(logits, label),
        0.1 * reference_dice(logits, label) / 6)
    # the sum grows with the batch: two copies, twice the loss
    torch.testing.assert_close(
        SoftmaxDiceLoss()(logits.repeat(2, 1, 1, 1), label.repeat(2, 1, 1)),
        2 * loss)


def test_perfect_prediction_and_ignored_pixels():
    label = torch.tensor([[[1, 0, 255, 255]]])
    logits = torch.tensor([[[[-20., 20., 5., -5.]], [[20., -20., -5., 5.]]]])
    logits.requires_grad_()
    loss = SoftmaxDiceLoss()(logits, label)
    # the ignored pixels count for neither prediction nor target
    assert loss < 1e-6
    loss.backward()
    assert (logits.grad[..., 2:] == 0).all()
    with pytest.raises(ValueError, match='reduction'):
        SoftmaxDiceLoss(reduction='none')
    assert SoftmaxDiceLoss().loss_name == 'loss_dice'
