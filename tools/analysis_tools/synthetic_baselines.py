"""Trivial baselines on a generated RefSegRS-layout set.

What a model must beat to show that it reads the expression:

- ``all target``: every pixel predicted as target;
- ``category``: the mask of every object of the expression's category,
  whatever its attributes and relations ("car" for "red car in the parking
  area") — an oracle of the class name alone, read from the generator's
  ``category_masks/``.

Scores use the same counts as :class:`~mmrrsis.evaluation.RRSISMetric` at the
original resolution, overall and on small targets (target area under
``--small-area`` of the image).

Example::

    python tools/analysis_tools/synthetic_baselines.py \
        data/synthetic_refsegrs --split val
"""
import argparse
import json
import os.path as osp

import mmcv
import numpy as np
import torch

from mmrrsis.evaluation.metrics.rrsis_metric import (
    intersection_and_union,
    summarize,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Trivial baselines')
    parser.add_argument('root', help='generated RefSegRS-layout folder')
    parser.add_argument(
        '--split', default='val', choices=['train', 'val', 'test'])
    parser.add_argument(
        '--small-area',
        type=float,
        default=0.01,
        help='a target under this fraction of the image is small')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args()


def read_mask(path: str) -> torch.Tensor:
    return torch.from_numpy(
        (mmcv.imread(path, flag='unchanged') > 0).astype(np.int64))


def evaluate(root: str, split: str, small_area: float) -> dict:
    """Score both baselines on one split.

    Returns:
        dict: baseline name -> {'all': metrics, 'small': metrics}, metrics
        in percent.
    """
    meta_file = osp.join(root, 'synthetic_meta.json')
    if not osp.isfile(meta_file):
        raise FileNotFoundError(
            f'{meta_file} not found: baselines need a set written by '
            'tools/dataset_converters/make_synthetic_refsegrs.py')
    with open(meta_file) as f:
        samples = json.load(f)['samples']
    counts = {'all target': [], 'category': []}
    small = []
    ids = [
        line.split(maxsplit=1)[0] for line in open(
            osp.join(root, f'output_phrase_{split}.txt')) if line.strip()
    ]
    for sample_id in ids:
        gt = read_mask(osp.join(root, 'masks', sample_id + '.tif'))
        cat_file = osp.join(root, 'category_masks', sample_id + '.tif')
        if not osp.isfile(cat_file):
            raise FileNotFoundError(
                f'{cat_file} not found: regenerate the set with '
                'category masks')
        counts['all target'].append(
            intersection_and_union(torch.ones_like(gt), gt))
        counts['category'].append(
            intersection_and_union(read_mask(cat_file), gt))
        small.append(samples[sample_id]['area'] < small_area)
    small = np.array(small, dtype=bool)
    results = {}
    for name, pairs in counts.items():
        inters, unions = np.array(pairs).T
        results[name] = dict(
            all=summarize(inters, unions), small=summarize(
                inters[small], unions[small]))
        for part in results[name].values():
            for key in part:
                part[key] = round(100 * part[key], 2)
    results['num_samples'] = dict(all=len(ids), small=int(small.sum()))
    return results


def main():
    args = parse_args()
    results = evaluate(args.root, args.split, args.small_area)
    num = results['num_samples']
    print(f'{args.split}: {num["all"]} samples, {num["small"]} small '
          f'(target < {args.small_area:.0%} of the image)')
    print(f'{"baseline":<12}{"subset":<8}{"oIoU":>8}{"mIoU":>8}'
          f'{"Prec@0.5":>10}')
    for name in ('all target', 'category'):
        for part in ('all', 'small'):
            m = results[name][part]
            print(f'{name:<12}{part:<8}{m["oIoU"]:>8.2f}{m["mIoU"]:>8.2f}'
                  f'{m["Prec@0.5"]:>10.2f}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
