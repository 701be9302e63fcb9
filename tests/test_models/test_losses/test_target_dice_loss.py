import torch

from mmrrsis.models.losses import TargetDiceLoss


def logits_for(prob_target: torch.Tensor) -> torch.Tensor:
    """(B, H, W) target probabilities -> (B, 2, H, W) logits."""
    p = prob_target.clamp(1e-6, 1 - 1e-6)
    return torch.stack([torch.zeros_like(p), torch.log(p / (1 - p))], 1)


def test_hand_computed_value():
    # target = 2 pixels; prediction puts 0.5 on them and on one other pixel
    label = torch.tensor([[[1, 1, 0, 0]]])
    prob = torch.tensor([[[0.5, 0.5, 0.5, 0.0]]])
    loss = TargetDiceLoss(eps=0.)(logits_for(prob), label)
    # dice = 2 * 1.0 / (1.5 + 2) = 4 / 7
    torch.testing.assert_close(loss, torch.tensor(1 - 4 / 7), atol=1e-4,
                               rtol=0)


def test_each_expression_counts_the_same():
    # sample 0: large target predicted perfectly; sample 1: a one-pixel
    # target missed. The mean is 0.5 whatever the target sizes.
    label = torch.zeros(2, 4, 4, dtype=torch.long)
    label[0, :, :3] = 1
    label[1, 0, 0] = 1
    prob = label.float()
    prob[1] = 0
    loss = TargetDiceLoss(eps=0.)(logits_for(prob), label)
    torch.testing.assert_close(loss, torch.tensor(0.5), atol=1e-4, rtol=0)


def test_ignored_pixels_do_not_count_and_gradient_flows():
    label = torch.tensor([[[1, 0, 255, 255]]])
    logits = torch.zeros(1, 2, 1, 4, requires_grad=True)
    loss = TargetDiceLoss(eps=0.)(logits, label)
    # p = 0.5 on the two valid pixels: dice = 2 * 0.5 / (1 + 1) = 0.5
    torch.testing.assert_close(loss, torch.tensor(0.5), atol=1e-5, rtol=0)
    loss.backward()
    assert logits.grad[..., 2:].abs().sum() == 0
    assert logits.grad[0, 1, 0, 0] < 0  # raise the target pixel
    assert logits.grad[0, 1, 0, 1] > 0  # lower the background pixel
