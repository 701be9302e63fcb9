"""A CLIP-style contrastive loss between the image features inside the
ground-truth mask and the expression."""
import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_rank, get_world_size, is_distributed
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.registry import MODELS


def gather_rows(x: Tensor) -> Tensor:
    """Every rank's rows of ``x`` stacked in rank order; this rank's keep
    their gradient, the others' have none.

    Args:
        x (Tensor): (B, C) on each rank (the same B on every rank).

    Returns:
        Tensor: (world_size * B, C); ``x`` itself when not distributed.
    """
    if not is_distributed() or get_world_size() == 1:
        return x
    parts = [torch.zeros_like(x) for _ in range(get_world_size())]
    dist.all_gather(parts, x.detach().contiguous())
    parts[get_rank()] = x
    return torch.cat(parts, dim=0)


@MODELS.register_module()
class MaskTextContrastiveLoss(BaseModule):
    """RSRefSeg2's contrastive loss between the pixels of the referred
    object and the expression.

    The ground truth is resized to the image feature grid (bilinear,
    ``> 0.5``; ignored pixels count as background); for sample b::

        v_b = normalize(mean over the grid of F_b * m_b)   (C,)
        t_b = normalize(mean_Q q_b)                         (C,)
        logits[i, j] = exp(s) * v_i . t_j + b

    and the loss is ``loss_weight`` times the mean of the cross-entropies
    of the rows (image to text) and of the columns (text to image), each
    sample's own pair being the right class. In a distributed run the
    rows of every rank take part (gathered without gradient, as the
    reference: ``local_loss=False``), so B is the global batch. The scale
    s and bias b are learnt (initial log(1/0.07) and log(0.5)).

    Args:
        loss_weight (float): Multiplier. Defaults to 0.5 (RSRefSeg2's).
        init_scale (float): Initial s. Defaults to log(1 / 0.07).
        init_bias (float): Initial b. Defaults to log(0.5).
        loss_name (str): Key in the loss dict. Defaults to
            ``'loss_mask_text_contrast'``.
    """

    def __init__(self,
                 loss_weight: float = 0.5,
                 init_scale: float = math.log(1 / 0.07),
                 init_bias: float = math.log(0.5),
                 loss_name: str = 'loss_mask_text_contrast') -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name
        # (1,), not 0-d: FSDP shards no 0-d parameter
        self.logit_scale = nn.Parameter(torch.full((1, ), float(init_scale)))
        self.logit_bias = nn.Parameter(torch.full((1, ), float(init_bias)))

    def init_weights(self) -> None:
        """The scale and bias keep their initial values."""
        self._is_init = True

    def forward(self, image_map: Tensor, label: Tensor, queries: Tensor,
                ignore_index: int = 255) -> Tensor:
        """The loss of a batch.

        Args:
            image_map (Tensor): (B, C, h, w) image features.
            label (Tensor): (B, H, W) ground truth, 1 = target.
            queries (Tensor): (B, Q, C) text queries.
            ignore_index (int): Label of ignored pixels. Defaults to 255.

        Returns:
            Tensor: Scalar loss.
        """
        target = (label == 1).to(image_map.dtype).unsqueeze(1)
        mask = F.interpolate(
            target,
            size=image_map.shape[-2:],
            mode='bilinear',
            align_corners=True).squeeze(1) > 0.5
        pooled = (image_map * mask.unsqueeze(1).to(image_map.dtype)).mean(
            dim=(2, 3))
        image_vec = gather_rows(F.normalize(pooled, dim=1))
        text_vec = gather_rows(F.normalize(queries.mean(dim=1), dim=1))
        scale = self.logit_scale.exp()
        per_image = scale * image_vec @ text_vec.t() + self.logit_bias
        per_text = scale * text_vec @ image_vec.t() + self.logit_bias
        classes = torch.arange(per_image.shape[0], device=per_image.device)
        loss = (F.cross_entropy(per_image, classes) +
                F.cross_entropy(per_text, classes)) / 2
        return self.loss_weight * loss


__all__ = ['MaskTextContrastiveLoss', 'gather_rows']
