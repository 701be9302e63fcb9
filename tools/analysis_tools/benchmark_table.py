"""The RRSIS paper's table from several checkpoints, in one run.

Every model is evaluated on the same split of its config as
``tools/test.py`` evaluates it (the config's runner and test loop,
``RRSISMetric``, the checkpoint read safely and loaded strictly), and the
table is written in the paper's format (P@0.5-0.9, oIoU, mIoU) with the
small-target view (mIoU by target size, the share of the image the target
covers, and per category) as Markdown, CSV and a PNG plot::

    python tools/analysis_tools/benchmark_table.py \
        LAVT=configs/lavt_synthetic.py:work_dirs/lavt_synthetic/epoch_10.pth \
        configs/lscm_synthetic.py:work_dirs/lscm_synthetic/epoch_10.pth \
        --split test --out work_dirs/table.md [--shuffled]

A model is ``[NAME=]CONFIG.py:CHECKPOINT`` (the config's file name names
it by default). ``--shuffled`` adds each model's score with the
expressions shuffled across the split (``language_ablation.py``'s check
that the model reads them). The run stops when two models' splits hold
different samples. Writes ``OUT`` (Markdown), ``OUT`` with ``.csv`` and
``.png``.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import DictAction

from mmrrsis.apis import CheckpointMismatchError
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.engine import (
    DataNotFoundError,
    SplitMismatchError,
    benchmark_models,
)
from mmrrsis.evaluation.benchmark_table import (
    DEFAULT_AREA_BINS,
    benchmark_markdown,
    plot_benchmark,
    write_csv,
)
from mmrrsis.utils import add_unsafe_load_arg, register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Evaluate several checkpoints on one split and write '
        'the RRSIS paper\'s table (Markdown, CSV, PNG)')
    parser.add_argument(
        'models', nargs='+', help='[NAME=]CONFIG.py:CHECKPOINT, one a model')
    parser.add_argument(
        '--split', default='test', choices=['val', 'test'],
        help='the split of every config to evaluate. Defaults to test.')
    parser.add_argument(
        '--out', default='work_dirs/benchmark_table/table.md',
        help='the Markdown file; the CSV and PNG are written beside it')
    parser.add_argument(
        '--area-bins', type=float, nargs='+', default=DEFAULT_AREA_BINS,
        help='edges of the target-size bins, as fractions of the image. '
        f'Defaults to {" ".join(f"{e:g}" for e in DEFAULT_AREA_BINS)}.')
    parser.add_argument(
        '--shuffled', action='store_true',
        help='also score each model with the expressions shuffled')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the shuffle')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_table',
                        help='where the runners log')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='overrides for every config, key=value')
    add_unsafe_load_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    edges = tuple(args.area_bins)
    try:
        result = benchmark_models(
            args.models,
            split=args.split,
            work_dir=args.work_dir,
            metric_options=dict(area_bins=edges, classwise=True),
            shuffle_seed=args.seed if args.shuffled else None,
            cfg_options=args.cfg_options,
            unsafe_load=args.unsafe_load)
    except (ValueError, OSError, DataNotFoundError, SplitMismatchError,
            CheckpointMismatchError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    stem = osp.splitext(args.out)[0]
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    plot_benchmark(result['rows'], edges, stem + '.png',
                   f'{args.split} split')
    write_csv(result['rows'], stem + '.csv')
    text = benchmark_markdown(result['rows'], edges, args.split,
                              result['categories'],
                              osp.basename(stem) + '.png')
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write(text)
    with open(stem + '.json', 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=1)
    print(text)
    print(f'written: {args.out}, {stem}.csv, {stem}.png, {stem}.json')
    return result


if __name__ == '__main__':
    main()
