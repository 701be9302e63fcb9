"""The loss of DiCoR's localization guide: where the object is (evidence)
and which candidate is it (winner)."""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmrrsis.registry import MODELS


def _dilate(mask: Tensor, radius: int) -> Tensor:
    """Binary dilation of (..., h, w) maps by a (2r+1)^2 square."""
    if radius <= 0:
        return mask
    return F.max_pool2d(mask, 2 * radius + 1, stride=1, padding=radius)


def _support(mask: Tensor, size) -> Tensor:
    """1 where an area-resized (h, w) map has any foreground."""
    return (F.interpolate(mask[None, None], size, mode='area')[0, 0] >
            1e-6).float()


def _region_mean(values: Tensor, regions: Tensor) -> Tensor:
    """Mean over the samples with a non-empty region of each sample's mean
    value in its region; 0 (still on the graph) when no region is
    non-empty."""
    means = [(v * r).sum() / r.sum().clamp_min(1.)
             for v, r in zip(values, regions) if float(r.sum()) > 1e-6]
    return torch.stack(means).mean() if means else values.sum() * 0.


@MODELS.register_module()
class LocalizationLoss(BaseModule):
    """Evidence and winner losses of
    :class:`~mmrrsis.models.guides.LocalizationGuide`.

    From each sample's ground truth (the target pixels at the network's
    input size) on the evidence grid (h, w): the centroid projected onto
    the grid c, the target's area A projected onto it and the radius
    ``r = max(sqrt(A / pi), 1)``. Regions: *positive* = within r of c;
    *far background* = at least 2r from c, no target pixel in the cell
    (area-resized ground truth) and not near a SAM mask; *weak negative*
    = near a SAM mask (its cells dilated by 1), no target, not positive.

    - evidence: BCE(E, 1) averaged over the positive region + BCE(E, 0)
      over the far background + ``sam_weight`` x BCE(E, 0) over the weak
      negatives; each term is a mean over the samples where the region is
      not empty;
    - winner: the target candidate is the valid candidate whose map is
      highest at c's nearest cell; the sample counts when that candidate
      is valid, its centre within ``gt_radius`` of c, the target not empty
      and covering at most ``max_area_ratio`` of the image; cross-entropy
      of the ranker's scores over the counted samples (0 when none).

    ``L = evidence + winner_weight * winner``. The geometry of the
    supervision (centroids, distances) is computed in float32, as the
    reference does, whatever the model's dtype.

    Args:
        winner_weight (float): Defaults to 1.2.
        sam_weight (float): Weight of the weak negatives. Defaults to 0.5.
        gt_radius (float): Defaults to 2.5 (cells).
        max_area_ratio (float): Defaults to 0.05.
        loss_name (str): Prefix of the loss keys. Defaults to
            ``'loss_loc'``.
    """

    def __init__(self,
                 winner_weight: float = 1.2,
                 sam_weight: float = 0.5,
                 gt_radius: float = 2.5,
                 max_area_ratio: float = 0.05,
                 loss_name: str = 'loss_loc') -> None:
        super().__init__()
        self.winner_weight = winner_weight
        self.sam_weight = sam_weight
        self.gt_radius = gt_radius
        self.max_area_ratio = max_area_ratio
        self.loss_name = loss_name

    def supervision(self,
                    targets: Tensor,
                    size,
                    sam_masks: Optional[Sequence[Tensor]] = None
                    ) -> Dict[str, Tensor]:
        """The regions and centres of the class docstring.

        Args:
            targets (Tensor): (B, H, W) 1 at target pixels (other values,
                e.g. padding 255, are background).
            size (tuple[int, int]): (h, w) of the evidence grid.
            sam_masks (Sequence[Tensor], optional): Per sample an
                (N_b, H, W) stack of SAM instance masks (or None).
                Defaults to None.

        Returns:
            dict[str, Tensor]: ``pos``, ``far_bg``, ``weak_neg`` (B, h, w),
            ``center`` (B, 2), ``area_ratio`` (B,), ``valid`` (B,) bool.
        """
        h, w = size
        device = targets.device
        rows = torch.arange(h, device=device, dtype=torch.float32)[:, None]
        cols = torch.arange(w, device=device, dtype=torch.float32)[None]
        out = {k: [] for k in ('pos', 'far_bg', 'weak_neg', 'center',
                               'area_ratio', 'valid')}
        for i, target in enumerate(targets):
            gt = (target == 1).float()
            in_h, in_w = gt.shape
            ys, xs = torch.where(gt > 0.5)
            if ys.numel() == 0:
                empty = gt.new_zeros(h, w)
                for key in ('pos', 'far_bg', 'weak_neg'):
                    out[key].append(empty)
                out['center'].append(gt.new_zeros(2))
                out['area_ratio'].append(gt.new_zeros(()))
                out['valid'].append(torch.tensor(False, device=device))
                continue
            area = gt.new_tensor(float(ys.numel()))
            cy = ((ys.float().mean() + 0.5) * h / in_h - 0.5).clamp(0, h - 1)
            cx = ((xs.float().mean() + 0.5) * w / in_w - 0.5).clamp(0, w - 1)
            radius = torch.maximum(
                (area * (h * w) / (in_h * in_w)).clamp_min(1e-6).div(
                    math.pi).sqrt(), gt.new_tensor(1.))
            dist = ((rows - cy)**2 + (cols - cx)**2 + 1e-12).sqrt()
            pos = (dist <= radius).float()
            support = _support(gt, size)
            sam = gt.new_zeros(h, w)
            for mask in (sam_masks[i] if sam_masks is not None
                         and sam_masks[i] is not None else []):
                sam = torch.maximum(
                    sam,
                    _dilate(_support(mask.float(), size)[None, None],
                            1)[0, 0])
            sam = sam.clamp(0, 1)
            free = (support < 0.5) & (pos < 0.5)
            out['pos'].append(pos)
            out['weak_neg'].append(((sam > 0.5) & free).float())
            out['far_bg'].append(
                ((dist >= 2 * radius) & free & (sam < 0.5)).float())
            out['center'].append(torch.stack([cy, cx]))
            out['area_ratio'].append(area / (in_h * in_w))
            out['valid'].append(torch.tensor(True, device=device))
        return {k: torch.stack(v) for k, v in out.items()}

    def forward(self,
                details: Dict[str, Tensor],
                targets: Tensor,
                sam_masks: Optional[List[Tensor]] = None
                ) -> Dict[str, Tensor]:
        """The losses.

        Args:
            details (dict[str, Tensor]): The guide's details
                (``evidence_logit``, ``cand_maps``, ``cand_centers``,
                ``cand_valid``, ``scores``).
            targets (Tensor): (B, H, W) ground truth at the input size.
            sam_masks (list[Tensor], optional): See :meth:`supervision`.

        Returns:
            dict[str, Tensor]: ``<loss_name>_evidence`` and
            ``<loss_name>_winner`` (weighted), whose sum is L.
        """
        logits = details['evidence_logit'][:, 0]
        sup = self.supervision(targets, logits.shape[1:], sam_masks)
        pos_loss = F.binary_cross_entropy_with_logits(
            logits, torch.ones_like(logits), reduction='none')
        neg_loss = F.binary_cross_entropy_with_logits(
            logits, torch.zeros_like(logits), reduction='none')
        evidence = (
            _region_mean(pos_loss, sup['pos']) +
            _region_mean(neg_loss, sup['far_bg']) +
            self.sam_weight * _region_mean(neg_loss, sup['weak_neg']))

        maps, valid = details['cand_maps'], details['cand_valid']
        h, w = maps.shape[2:]
        center = sup['center'].to(maps.dtype)
        dist = ((details['cand_centers'] - center[:, None])**2).sum(-1)
        dist = dist.clamp_min(1e-12).sqrt()
        row = center[:, 0].round().long().clamp(0, h - 1)
        col = center[:, 1].round().long().clamp(0, w - 1)
        batch = torch.arange(maps.shape[0], device=maps.device)
        at_center = maps[batch, :, row, col].masked_fill(~valid, -1.)
        target = at_center.argmax(1)
        counted = (valid[batch, target]
                   & (dist[batch, target] <= self.gt_radius)
                   & sup['valid']
                   & (sup['area_ratio'] <= self.max_area_ratio))
        scores = details['scores']
        if counted.any():
            winner = F.cross_entropy(scores[counted], target[counted])
        else:
            winner = scores.sum() * 0.
        return {
            f'{self.loss_name}_evidence': evidence,
            f'{self.loss_name}_winner': self.winner_weight * winner
        }


__all__ = ['LocalizationLoss']
