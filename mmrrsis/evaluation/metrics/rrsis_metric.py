"""Referring segmentation metrics: oIoU, mIoU and Prec@X per expression.

For every expression (one data sample) the metric counts, over the pixels
that are not ``ignore_index`` in the ground truth::

    I = |pred AND gt|        U = |pred OR gt|        IoU = I / U (0 if U = 0)

and over a split of N expressions reports (in percent, like mmseg):

- ``oIoU`` (overall or cumulative IoU, "cIoU"): sum(I) / sum(U);
- ``mIoU``: the mean of the N per-expression IoUs;
- ``Prec@X`` for each threshold X: the fraction of expressions whose IoU is
  at least X;
- ``<category>_oIoU`` and ``<category>_mIoU`` for each category named by the
  samples' ``category`` metainfo (samples whose category is None count only
  in the totals);
- all of it per split, prefixed ``<split>/``, when the samples come from
  several splits (RefCOCO's ``val``, ``testA`` and ``testB`` in one test
  run; the ``split`` metainfo).

Names elsewhere (README, "Metric names"): RSRefSeg2's
``RefSegIoUMetric`` reports ``cIoU_1`` (= our ``oIoU``), ``gIoU_1`` (= our
``mIoU``; it picks its best checkpoint by it), ``seg_acc_X_1`` (= our
``Prec@X``, but counting IoU strictly above X, ours at least X) and a
"mIoU" (``mean_iou``) that averages the per-image IoU within each
``category_name`` and then over the categories (our per-category mIoUs,
averaged). Its RefSegRS test pipeline packs no category, so there that
"mIoU" equals ``gIoU_1`` (every RefSegRS target is non-empty): a RefSegRS
mIoU or gIoU of RSRefSeg2 (77.39 on test) is our mIoU. DiCoR's "gIoU" is
our oIoU.

Only (I, U, category, split) is kept per sample, so results gathered from
several processes are tiny, and mmengine's ``collect_results`` (which
interleaves the ranks' per-sample results back into dataset order and drops
the duplicates that the distributed sampler pads the last batch with) counts
each sample exactly once.
"""
import os.path as osp
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.utils import mkdir_or_exist
from PIL import Image
from prettytable import PrettyTable

from mmrrsis.datasets.sample_names import sample_name
from mmrrsis.registry import METRICS

RESOLUTIONS = ('original', 'network')


def _data(field) -> torch.Tensor:
    """The tensor of a PixelData, given as dict (``to_dict``) or object."""
    if isinstance(field, dict):
        return field['data']
    return field.data


def intersection_and_union(pred: torch.Tensor,
                           gt: torch.Tensor,
                           ignore_index: int = 255):
    """Count the intersection and union of one binary prediction.

    Args:
        pred (Tensor): (H, W) predicted mask, 1 = target, anything else
            background.
        gt (Tensor): (H, W) ground truth with values in
            {0, 1, ``ignore_index``}.
        ignore_index (int): Ground-truth value of pixels left out of both
            counts. Defaults to 255.

    Returns:
        tuple[int, int]: I = |pred AND gt| and U = |pred OR gt|.

    Raises:
        ValueError: If the shapes differ or ``gt`` holds other values.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} and ground truth '
                         f'{tuple(gt.shape)} differ in shape')
    valid = gt != ignore_index
    bad = valid & (gt != 0) & (gt != 1)
    if bool(bad.any()):
        values = torch.unique(gt[bad])[:5].tolist()
        raise ValueError(
            f'the ground-truth mask holds values {values} besides 0, 1 and '
            f'ignore_index={ignore_index}; referring masks must be binary '
            '(0 background, 1 target) — threshold them when loading')
    pred_fg = (pred == 1) & valid
    gt_fg = gt == 1
    inter = int((pred_fg & gt_fg).sum())
    union = int((pred_fg | gt_fg).sum())
    return inter, union


def summarize(inters: np.ndarray,
              unions: np.ndarray,
              thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9)
              ) -> Dict[str, float]:
    """oIoU, mIoU and Prec@X (fractions in [0, 1]) from per-sample counts.

    Args:
        inters (np.ndarray): (N, ) intersections.
        unions (np.ndarray): (N, ) unions.
        thresholds (Sequence[float]): IoU thresholds of Prec@X. Defaults to
            (0.5, 0.6, 0.7, 0.8, 0.9).

    Returns:
        dict[str, float]: ``oIoU``, ``mIoU`` and ``Prec@X`` (NaN when N is
        0); a sample with U = 0 has IoU 0, as in the reference code.
    """
    inters = np.asarray(inters, dtype=np.float64)
    unions = np.asarray(unions, dtype=np.float64)
    if inters.size == 0:
        nan = float('nan')
        return dict(oIoU=nan, mIoU=nan, **{f'Prec@{t}': nan
                                           for t in thresholds})
    ious = np.divide(
        inters, unions, out=np.zeros_like(inters), where=unions > 0)
    total_union = unions.sum()
    results = dict(
        oIoU=float(inters.sum() / total_union) if total_union > 0 else 0.0,
        mIoU=float(ious.mean()))
    for thr in thresholds:
        results[f'Prec@{thr}'] = float((ious >= thr).mean())
    return results


@METRICS.register_module()
class RRSISMetric(BaseMetric):
    """oIoU, mIoU, Prec@X and per-category scores of referring masks.

    Two resolutions, which decide what the test pipeline must give it:

    - ``'original'`` (default, the honest score): the prediction at the
      image's original size (mmseg's ``predict`` already resizes it to
      ``ori_shape``) against the original mask. The test pipeline must keep
      the ground truth at its original size, i.e. load the annotation
      *after* ``Resize`` as mmseg's test pipelines do::

          LoadRSImageFromFile -> Resize(480, 480) -> load referring mask
          -> text transforms -> pack

      A ground truth whose size differs from the prediction's raises an
      error that says so.
    - ``'network'`` (to compare with the reference code, which scores at
      480x480): the ground truth as resized by the pipeline, i.e. the
      annotation loaded *before* ``Resize`` as in training::

          LoadRSImageFromFile -> load referring mask -> Resize(480, 480)
          -> text transforms -> pack

      The prediction is taken at the ground truth's size: used as is when it
      already has that size; otherwise the model's 2-channel logits (which
      mmseg resized bilinearly to ``ori_shape``) are resized bilinearly to
      the ground truth's size and arg-maxed (the reference's "logits at 480,
      argmax"); without such logits the predicted mask is resized with
      nearest neighbours.

    The metric values are percentages (like mmseg's ``IoUMetric``).

    Args:
        resolution (str): ``'original'`` or ``'network'``. Defaults to
            'original'.
        prec_thresholds (Sequence[float]): IoU thresholds of ``Prec@X``.
            Defaults to (0.5, 0.6, 0.7, 0.8, 0.9).
        classwise (bool): Also report ``<category>_oIoU`` and
            ``<category>_mIoU`` for the samples' categories (spaces in a
            category become ``_``) and log a per-category table. Defaults
            to True.
        ignore_index (int): Ground-truth value left out of the counts.
            Defaults to 255.
        output_dir (str, optional): Write every predicted mask there as a
            PNG (0 background, 255 target) named by
            :func:`sample_name`. Defaults to None.
        format_only (bool): Only write the masks (``output_dir`` is then
            required), compute no metric and need no ground truth, e.g. for
            a test split without masks. Defaults to False.
        collect_device (str): ``'cpu'`` or ``'gpu'``, where the per-sample
            results of the processes are gathered. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None.
        small_area (float, optional): Also report ``small_oIoU``,
            ``small_mIoU`` and ``small_Prec@X`` over the samples whose
            target covers less than this fraction of the ground truth's
            valid pixels (e.g. 0.01: small, scattered objects, where LGCE
            is meant to help). Defaults to None (not reported).
        by_split (bool): When the samples come from several splits (their
            ``split`` metainfo, e.g. RefCOCO's val, testA and testB read in
            one test run), score each split on its own and prefix its
            metric names with ``<split>/`` (``testA/oIoU``); no score over
            the splits together is reported. Defaults to True.
    """

    def __init__(self,
                 resolution: str = 'original',
                 prec_thresholds: Sequence[float] = (0.5, 0.6, 0.7, 0.8,
                                                     0.9),
                 classwise: bool = True,
                 ignore_index: int = 255,
                 output_dir: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 small_area: Optional[float] = None,
                 by_split: bool = True,
                 **kwargs) -> None:
        super().__init__(
            collect_device=collect_device, prefix=prefix, **kwargs)
        if resolution not in RESOLUTIONS:
            raise ValueError(f'resolution must be one of {RESOLUTIONS}, '
                             f'got {resolution!r}')
        thresholds = tuple(float(t) for t in prec_thresholds)
        if any(not 0.0 <= t <= 1.0 for t in thresholds):
            raise ValueError('prec_thresholds must lie in [0, 1], got '
                             f'{prec_thresholds}')
        if format_only and not output_dir:
            raise ValueError('format_only=True writes the predicted masks '
                             'and needs output_dir')
        self.resolution = resolution
        self.prec_thresholds = thresholds
        self.classwise = classwise
        self.ignore_index = ignore_index
        self.output_dir = output_dir
        self.format_only = format_only
        if small_area is not None and not 0.0 < small_area <= 1.0:
            raise ValueError(
                f'small_area must lie in (0, 1], got {small_area}')
        self.small_area = small_area
        self.by_split = by_split
        if output_dir is not None:
            mkdir_or_exist(output_dir)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Count I and U of each sample of a batch (and write its mask).

        Args:
            data_batch (dict): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Model outputs as dicts
                (``SegDataSample.to_dict()``), each with ``pred_sem_seg``
                (1, H, W), optionally ``seg_logits`` (C, H, W), and, unless
                ``format_only``, ``gt_sem_seg`` (1, H', W').
        """
        for data_sample in data_samples:
            pred = _data(data_sample['pred_sem_seg']).squeeze(0)
            if self.output_dir is not None:
                self._save_mask(pred, data_sample)
            if self.format_only:
                continue
            if 'gt_sem_seg' not in data_sample:
                raise KeyError(
                    'RRSISMetric needs gt_sem_seg in the data samples; load '
                    'the referring masks in the test pipeline, or set '
                    'format_only=True (with output_dir) to only write the '
                    'predictions')
            gt = _data(data_sample['gt_sem_seg']).squeeze(0).to(pred.device)
            if self.resolution == 'network':
                pred = self._pred_at(pred, data_sample, gt.shape[-2:])
            elif pred.shape != gt.shape:
                raise ValueError(
                    f'RRSISMetric(resolution="original"): the prediction is '
                    f'{tuple(pred.shape)} (the original image size) but '
                    f'the ground truth of {sample_name(data_sample)} is '
                    f'{tuple(gt.shape)}. Load the referring mask after '
                    'Resize in the test pipeline so it keeps its original '
                    'size, or score at the network resolution with '
                    'resolution="network".')
            inter, union = intersection_and_union(pred, gt, self.ignore_index)
            valid = int((gt != self.ignore_index).sum())
            self.results.append(
                dict(
                    inter=inter,
                    union=union,
                    area=float((gt == 1).sum()) / max(valid, 1),
                    category=data_sample.get('category', None),
                    split=data_sample.get('split', None)))

    @staticmethod
    def _pred_at(pred: torch.Tensor, data_sample: dict,
                 size: torch.Size) -> torch.Tensor:
        """The predicted mask (H, W) at ``size``, as the reference scores."""
        if pred.shape == size:
            return pred
        logits = data_sample.get('seg_logits', None)
        if logits is not None:
            logits = _data(logits)
            if logits.dim() == 3 and logits.shape[0] > 1:
                logits = F.interpolate(
                    logits[None].float(),
                    size=tuple(size),
                    mode='bilinear',
                    align_corners=False)
                return logits[0].argmax(dim=0)
        return F.interpolate(
            pred[None, None].float(), size=tuple(size),
            mode='nearest')[0, 0].to(pred.dtype)

    def _save_mask(self, pred: torch.Tensor, data_sample: dict) -> None:
        mask = ((pred == 1).cpu().numpy() * 255).astype(np.uint8)
        out = osp.join(self.output_dir, sample_name(data_sample) + '.png')
        Image.fromarray(mask).save(out)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Summarise the per-sample counts of the whole split.

        Args:
            results (list[dict]): ``inter``, ``union`` and ``category`` of
                every sample (gathered from all processes).

        Returns:
            dict[str, float]: ``oIoU``, ``mIoU``, ``Prec@X`` and, with
            ``classwise``, ``<category>_oIoU`` / ``<category>_mIoU``, in
            percent rounded to 2 decimals; empty with ``format_only``.
        """
        if self.format_only:
            print_log(
                f'Predicted masks written to {self.output_dir}',
                logger='current')
            return OrderedDict()
        splits = list(dict.fromkeys(
            r['split'] for r in results if r.get('split') is not None))
        if not self.by_split or len(splits) < 2:
            return self._score(results, '')
        metrics = OrderedDict()
        for split in splits:
            part = [r for r in results if r.get('split') == split]
            scores = self._score(part, f'split {split}: ')
            metrics.update((f'{split}/{k}', v) for k, v in scores.items())
        return metrics

    def _score(self, results: List[dict], title: str) -> Dict[str, float]:
        """The metrics of one set of per-sample counts (and their logs)."""
        inters = np.array([r['inter'] for r in results], dtype=np.int64)
        unions = np.array([r['union'] for r in results], dtype=np.int64)
        overall = summarize(inters, unions, self.prec_thresholds)
        metrics = OrderedDict(
            (key, _percent(value)) for key, value in overall.items())

        if self.small_area is not None:
            small = np.array([r['area'] < self.small_area for r in results],
                             dtype=bool)
            scores = summarize(inters[small], unions[small],
                               self.prec_thresholds)
            metrics['small_samples'] = int(small.sum())
            for key, value in scores.items():
                metrics[f'small_{key}'] = _percent(value)

        by_category = defaultdict(list)
        for idx, res in enumerate(results):
            if res['category'] is not None:
                by_category[str(res['category'])].append(idx)
        table = PrettyTable(
            field_names=['category', 'samples', 'oIoU', 'mIoU'])
        for category in sorted(by_category):
            idx = by_category[category]
            scores = summarize(inters[idx], unions[idx], ())
            table.add_row([
                category,
                len(idx),
                _percent(scores['oIoU']),
                _percent(scores['mIoU'])
            ])
            if self.classwise:
                key = '_'.join(category.split())
                metrics[f'{key}_oIoU'] = _percent(scores['oIoU'])
                metrics[f'{key}_mIoU'] = _percent(scores['mIoU'])
        if self.classwise and by_category:
            print_log(f'{title}per-category results:\n' +
                      table.get_string(),
                      logger='current')
        summary = PrettyTable(field_names=['samples', *overall])
        summary.add_row([len(results), *(metrics[k] for k in overall)])
        if self.small_area is not None:
            summary.add_row([
                f"{metrics['small_samples']} small",
                *(metrics[f'small_{k}'] for k in overall)
            ])
        print_log(
            f'{title}referring segmentation ({self.resolution} '
            'resolution):\n' +
            summary.get_string(),
            logger='current')
        return metrics


def _percent(value: float) -> float:
    return float(np.round(value * 100, 2))
