"""The loss of DiCoR's refiner: cross-entropy and Dice weighted towards the
coarse mask's surroundings, and a penalty on corrections elsewhere."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmrrsis.registry import MODELS


def _dilate(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation of (B, 1, H, W) maps by a (2r+1)^2 square."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius)


def focus_map(prob: Tensor,
              small_area: float = 0.002,
              large_area: float = 0.02,
              radii: Sequence[int] = (6, 12, 18),
              band_radius: int = 3,
              weights: Sequence[float] = (0.7, 0.2, 0.1)) -> Tensor:
    """Where the refiner should look, from the coarse probability.

    With the coarse mask ``F = p > 0.5`` covering a fraction a of the
    image: ``focus`` = F dilated by ``radii[0]`` (a < ``small_area``),
    ``radii[2]`` (a > ``large_area``) or ``radii[1]``; ``band`` = F's
    one-pixel contour dilated by ``band_radius``; ``unc = 1 - |2p - 1|``;
    the map is ``w_f focus + w_b band + w_u unc``, clipped to [0, 1].

    Args:
        prob (Tensor): (B, 1, H, W) coarse foreground probability.
        small_area (float): Defaults to 0.002.
        large_area (float): Defaults to 0.02.
        radii (Sequence[int]): Focus radii for small, medium, large masks.
            Defaults to (6, 12, 18).
        band_radius (int): Defaults to 3.
        weights (Sequence[float]): (w_f, w_b, w_u). Defaults to
            (0.7, 0.2, 0.1).

    Returns:
        Tensor: (B, 1, H, W) in [0, 1].
    """
    # the binary parts in float32, whatever prob's dtype (as the reference)
    fg = (prob > 0.5).float()
    area = fg.mean(dim=(1, 2, 3))
    size = torch.where(area < small_area, 0,
                       torch.where(area > large_area, 2, 1))
    dilated = torch.stack([_dilate(fg, r) for r in radii])  # (3, B, 1, H, W)
    focus = dilated[size, torch.arange(fg.shape[0], device=fg.device)]
    edge = (_dilate(fg, 1) - (1. - _dilate(1. - fg, 1))).clamp(0, 1)
    band = _dilate(edge, band_radius)
    unc = (1. - (2. * prob - 1.).abs()).clamp(0, 1)
    w_f, w_b, w_u = weights
    return (w_f * focus + w_b * band + w_u * unc).clamp(0, 1)


@MODELS.register_module()
class RefinerLoss(BaseModule):
    """Focus-weighted cross-entropy + Dice of the refined logits, and an
    inhibition of corrections outside the focus.

    With the focus map w (:func:`focus_map` of the coarse probability),
    per sample::

        CE   = sum(w * CE_pixel(y, t)) / sum(w)      (class weights)
        Dice = 1 - (2 sum(w p t) + eps) / (sum(w p) + sum(w t) + eps)
        Inh  = sum((1 - w) * mean_k |delta_k|) / sum(1 - w)
        L    = mean_b (CE + dice_weight * Dice + inhibit_weight * Inh)

    with p the refined target probability and t the target (pixels at
    ``ignore_index`` count as background for Dice, are left out of CE).

    Args:
        class_weight (Sequence[float]): CE class weights. Defaults to
            (0.9, 1.1).
        dice_weight (float): Defaults to 1.
        inhibit_weight (float): Defaults to 0.05.
        eps (float): Dice smoothing. Defaults to 1e-6.
        ignore_index (int): Defaults to 255.
        loss_name (str): Prefix of the loss keys. Defaults to
            ``'loss_refine'``.
    """

    def __init__(self,
                 class_weight: Sequence[float] = (0.9, 1.1),
                 dice_weight: float = 1.,
                 inhibit_weight: float = 0.05,
                 eps: float = 1e-6,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_refine') -> None:
        super().__init__()
        self.class_weight = list(class_weight)
        self.dice_weight = dice_weight
        self.inhibit_weight = inhibit_weight
        self.eps = eps
        self.ignore_index = ignore_index
        self.loss_name = loss_name

    def forward(self, logits: Tensor, delta: Tensor, prob: Tensor,
                target: Tensor) -> Dict[str, Tensor]:
        """The losses.

        Args:
            logits (Tensor): (B, K, H, W) refined logits.
            delta (Tensor): (B, K, H, W) the refiner's correction.
            prob (Tensor): (B, 1, H, W) coarse foreground probability.
            target (Tensor): (B, H, W) labels.

        Returns:
            dict[str, Tensor]: ``<loss_name>_ce``, ``_dice`` and
            ``_inhibit`` (weighted), whose sum is L.
        """
        weight = focus_map(prob).to(logits.dtype)[:, 0]
        ce = F.cross_entropy(
            logits,
            target.long(),
            weight=logits.new_tensor(self.class_weight),
            ignore_index=self.ignore_index,
            reduction='none')
        ce = (ce * weight).flatten(1).sum(1) / weight.flatten(1).sum(
            1).clamp_min(1e-6)
        fg_prob = logits.softmax(1)[:, 1]
        gt = (target == 1).to(logits.dtype)
        inter = (weight * fg_prob * gt).flatten(1).sum(1)
        total = (weight * fg_prob).flatten(1).sum(1) + (weight * gt).flatten(
            1).sum(1)
        dice = 1. - (2. * inter + self.eps) / (total + self.eps)
        outside = (1. - weight).clamp_min(0.)
        inhibit = (delta.abs().mean(1) * outside).flatten(1).sum(1) / \
            outside.flatten(1).sum(1).clamp_min(1e-6)
        return {
            f'{self.loss_name}_ce': ce.mean(),
            f'{self.loss_name}_dice': self.dice_weight * dice.mean(),
            f'{self.loss_name}_inhibit': self.inhibit_weight * inhibit.mean()
        }


__all__ = ['RefinerLoss', 'focus_map']
