"""A penalty pushing two sets of text queries apart."""
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmrrsis.registry import MODELS


@MODELS.register_module()
class QuerySeparationLoss(BaseModule):
    """RSRefSeg2's penalty on the similarity of its two query sets.

    With q1, q2 (B, Q, C) the two sets of text queries of a prompter::

        s_b = cos(mean_Q q1_b, mean_Q q2_b)
        L = loss_weight * mean_b s_b^2

    so the two sets (one steers the image tokens, the other the prompts)
    learn different views of the expression.

    Args:
        loss_weight (float): Multiplier. Defaults to 0.5 (RSRefSeg2's).
        loss_name (str): Key in the loss dict. Defaults to
            ``'loss_query_separation'``.
    """

    def __init__(self,
                 loss_weight: float = 0.5,
                 loss_name: str = 'loss_query_separation') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, queries1: Tensor, queries2: Tensor) -> Tensor:
        """The penalty.

        Args:
            queries1 (Tensor): (B, Q, C).
            queries2 (Tensor): (B, Q, C).

        Returns:
            Tensor: Scalar loss.
        """
        a = F.normalize(queries1.mean(dim=1), dim=1)
        b = F.normalize(queries2.mean(dim=1), dim=1)
        similarity = F.cosine_similarity(a, b, dim=1)
        return self.loss_weight * (similarity**2).mean()
