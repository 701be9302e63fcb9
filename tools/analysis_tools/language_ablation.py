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
checked.
"""
import argparse
import json
import os.path as osp
import sys
from copy import deepcopy

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper

from mmrrsis.apis import CheckpointMismatchError, load_checkpoint_checked
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.engine import build_runner
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
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or osp.join(
        './work_dirs', 'language_ablation',
        osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # loaded strictly below
    cfg.resume = False
    # evaluate the chosen split through the test loop
    cfg.test_dataloader = deepcopy(cfg[f'{args.split}_dataloader'])
    cfg.test_evaluator = deepcopy(cfg[f'{args.split}_evaluator'])
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    # a training set is not needed
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg.pop(key, None)
    cfg.default_hooks.pop('visualization', None)

    runner = build_runner(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        load_checkpoint_checked(
            model, args.checkpoint, unsafe_load=args.unsafe_load, cfg=cfg)
    except (OSError, CheckpointMismatchError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    true_metrics = runner.test()

    # same runner and weights, expressions shuffled within the split
    shuffled_loader = deepcopy(cfg.test_dataloader)
    shuffled_loader.dataset = dict(
        type='ShuffledTextDataset',
        dataset=shuffled_loader.dataset,
        seed=args.seed)
    runner._test_dataloader = shuffled_loader
    runner._test_loop = deepcopy(cfg.test_cfg)
    shuffled = runner.test()

    table = format_table(true_metrics, shuffled)
    runner.logger.info(f'Language ablation ({args.split} split):\n{table}')
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(true=true_metrics, shuffled=shuffled), f, indent=2)


if __name__ == '__main__':
    main()
