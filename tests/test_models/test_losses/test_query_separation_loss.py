import torch

from mmrrsis.models.losses import QuerySeparationLoss


def test_squared_cosine_of_the_mean_queries():
    q1 = torch.randn(3, 4, 8)
    loss = QuerySeparationLoss(loss_weight=0.5)
    torch.testing.assert_close(loss(q1, q1), torch.tensor(0.5))
    orth = torch.zeros(1, 2, 2)
    orth[0, :, 0] = 1
    other = torch.zeros(1, 2, 2)
    other[0, :, 1] = 1
    assert loss(orth, other).item() == 0
    torch.testing.assert_close(loss(orth, -orth), torch.tensor(0.5))
