"""Does the model read the expression? Evaluate a checkpoint with the true
expressions and with the expressions shuffled across the samples of the
same split, and print both metric sets.

A model that uses the language loses clearly under shuffling; one that only
looks at the image (e.g. "segment every vehicle") does not.

Example::

    python tools/analysis_tools/language_ablation.py \
        configs/synthetic/lgce_swin-mini_synthetic-128x128.py \
        work_dirs/lgce_synthetic/best_oIoU_epoch_6.pth --split val

The checkpoint is loaded as by ``tools/test.py``: without running code from
it (``--unsafe-load`` unpickles it completely), strictly, with its values
checked (:class:`mmrrsis.engine.SplitEvaluator`, which
``benchmark_table.py`` also uses).
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

from mmrrsis.apis import CheckpointMismatchError
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.engine import SplitEvaluator
from mmrrsis.utils import add_unsafe_load_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Evaluate with true and with shuffled expressions')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        default='test',
        choices=['val', 'test'],
        help='which dataloader of the config to evaluate. Defaults to test.')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the shuffle')
    parser.add_argument('--work-dir', help='where logs go')
    parser.add_argument('--out', help='write both metric sets to this JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings, key=value (e.g. a.b=1)')
    add_unsafe_load_arg(parser)
    return parser.parse_args(argv)


def format_table(true_metrics: dict, shuffled: dict) -> str:
    keys = [k for k in true_metrics if k in shuffled]
    width = max(len(k) for k in keys) + 2
    lines = [f'{"metric":<{width}}{"true":>10}{"shuffled":>10}{"drop":>10}']
    for key in keys:
        a, b = true_metrics[key], shuffled[key]
        if not isinstance(a, (int, float)):
            continue
        lines.append(f'{key:<{width}}{a:>10.2f}{b:>10.2f}{a - b:>10.2f}')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    work_dir = args.work_dir or osp.join(
        './work_dirs', 'language_ablation',
        osp.splitext(osp.basename(args.config))[0])
    try:
        evaluator = SplitEvaluator(
            args.config,
            args.checkpoint,
            args.split,
            work_dir,
            cfg_options=args.cfg_options,
            unsafe_load=args.unsafe_load)
    except (OSError, ValueError, CheckpointMismatchError,
            UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    true_metrics = evaluator.run()
    # same runner and weights, expressions shuffled within the split
    shuffled = evaluator.run(shuffle_seed=args.seed)

    table = format_table(true_metrics, shuffled)
    evaluator.runner.logger.info(
        f'Language ablation ({args.split} split):\n{table}')
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(true=true_metrics, shuffled=shuffled), f, indent=2)


if __name__ == '__main__':
    main()
