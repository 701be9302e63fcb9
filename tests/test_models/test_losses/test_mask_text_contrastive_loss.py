import math

import torch

from mmrrsis.models.losses import MaskTextContrastiveLoss


def test_matching_pairs_score_lower_than_swapped():
    loss = MaskTextContrastiveLoss(loss_weight=1.0)
    assert loss.logit_scale.shape == (1, )  # FSDP shards no 0-d parameter
    assert torch.isclose(loss.logit_scale, torch.tensor(math.log(1 / 0.07)))
    assert torch.isclose(loss.logit_bias, torch.tensor(math.log(0.5)))
    # two images whose target pixels carry orthogonal features
    image = torch.zeros(2, 2, 4, 4)
    image[0, 0] = 1
    image[1, 1] = 1
    label = torch.zeros(2, 16, 16, dtype=torch.long)
    label[:, :8, :8] = 1
    label[:, 0, 0] = 255  # ignored = background
    text = torch.eye(2).view(2, 1, 2)
    right = loss(image, label, text)
    wrong = loss(image, label, text.flip(0))
    assert right < wrong
    # the ground truth resized to the grid selects the top-left 2 x 2 cells
    empty = torch.zeros_like(label)
    assert torch.isclose(
        loss(image, empty, text), torch.tensor([math.log(2.)]))
