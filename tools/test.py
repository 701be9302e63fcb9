"""Evaluate a referring segmentor checkpoint (and write or draw its masks).

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --resolution network
    python tools/test.py CONFIG CHECKPOINT --precision bf16
    python tools/test.py CONFIG CHECKPOINT --out preds/ --show-dir vis/
    bash tools/dist_test.sh CONFIG CHECKPOINT 8

The metrics (oIoU, mIoU, Prec@X, per category) are logged and written as
JSON under ``<work_dir>/<timestamp>/``. The checkpoint is read without
running code from it and checked (CRCs, NaN/Inf, absurd values, keys and
shapes of the model); ``--unsafe-load`` unpickles it completely (trusted
files only).
"""
import argparse
import copy
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper

# importing mmrrsis applies its compatibility fixes before mmseg is used
from mmrrsis.apis import (
    CheckpointMismatchError,
    check_text_model,
    load_checkpoint_checked,
)
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.engine import (
    DataNotFoundError,
    DistTimeoutError,
    build_runner,
    destroy_dist,
)
from mmrrsis.evaluation import set_eval_resolution
from mmrrsis.utils import (
    PRECISIONS,
    add_unsafe_load_arg,
    autocast_context,
    map_pipelines,
    register_all_modules,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Evaluate a referring segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='folder of the logs and the metrics JSON')
    parser.add_argument(
        '--out',
        help='write every predicted mask to this folder as a PNG (0/255) '
        'named <image>_<ref id>_<sent id>.png')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='with --out: only write the masks, compute no metric (for a '
        'split without ground truth)')
    parser.add_argument(
        '--resolution',
        choices=['original', 'network'],
        help='score at the original mask size or at the network input size '
        '(as the reference code); reorders the test pipeline to match')
    parser.add_argument(
        '--show', action='store_true', help='show the drawings in a window')
    parser.add_argument(
        '--show-dir',
        help='write a drawing of every sample (ground truth, prediction, '
        'expression) to this folder')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--precision',
        default='fp32',
        choices=PRECISIONS,
        help='run the model under autocast: bf16 (CPUs with AVX512-BF16/'
        'AMX, GPUs) or fp16 (GPUs); masks and metrics are computed in '
        'float32. Default: fp32')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation (needs tta_model and tta_pipeline in '
        'the config)')
    add_unsafe_load_arg(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _metrics(evaluator) -> list:
    if isinstance(evaluator, dict):
        return [evaluator]
    return list(evaluator or [])


def setup_cfg(cfg: Config, args) -> Config:
    """Apply the command-line options to the config, in place."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # the checkpoint is loaded strictly by main(), not by the runner
    cfg.load_from = None
    cfg.resume = False

    if args.resolution is not None:
        set_eval_resolution(cfg, args.resolution)
    if args.format_only and not args.out:
        raise SystemExit('--format-only writes the masks given by --out; '
                         'pass --out DIR')
    if args.out is not None:
        for metric in _metrics(cfg.test_evaluator):
            metric['output_dir'] = osp.abspath(args.out)
            metric['format_only'] = args.format_only

    if args.show or args.show_dir:
        hook = cfg.default_hooks.get('visualization')
        if hook is None:
            raise SystemExit('--show/--show-dir need a visualization hook in '
                             'default_hooks (RRSISVisualizationHook)')
        hook['draw'] = True
        hook['interval'] = 1
        if args.show:
            hook['show'] = True
            hook['wait_time'] = args.wait_time
        if args.show_dir:
            hook['test_out_dir'] = osp.abspath(args.show_dir)

    if args.tta:
        if not cfg.get('tta_model') or not cfg.get('tta_pipeline'):
            raise SystemExit('--tta: this config defines no test-time '
                             'augmentation (tta_model and tta_pipeline)')
        tta_pipeline = cfg.tta_pipeline
        map_pipelines(cfg, ('test_dataloader', ),
                      lambda _: copy.deepcopy(tta_pipeline))
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    return cfg


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'Config file not found: {args.config}')
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'Checkpoint file not found: {args.checkpoint}')
    register_all_modules(init_default_scope=False)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    setup_cfg(cfg, args)

    try:
        runner = build_runner(cfg)
    except DataNotFoundError as e:  # before the model is built
        raise SystemExit(f'error: {e}') from None
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if args.tta:
        model = model.module  # the segmentor inside the TTA wrapper
    try:
        check_text_model(model, args.config)
        # strict: a checkpoint of another model is an error, not a warning
        load_checkpoint_checked(
            model,
            args.checkpoint,
            map_location='cpu',
            unsafe_load=args.unsafe_load,
            # the segmentor's config (inside the TTA wrapper with --tta)
            cfg=dict(model=cfg.model.module) if args.tta else cfg)
    except (CheckpointMismatchError, UnsafeCheckpointError,
            CorruptCheckpointError, ValueError) as e:
        raise SystemExit(f'error: {e}') from None
    runner.logger.info(f'Loaded checkpoint {args.checkpoint}')
    device = str(next(model.parameters()).device)
    try:
        precision = autocast_context(args.precision, device)
    except ValueError as e:
        raise SystemExit(f'error: {e}') from None
    try:
        with precision:
            runner.test()
    except DistTimeoutError as e:
        raise SystemExit(f'error: {e}') from None
    destroy_dist(runner)


if __name__ == '__main__':
    main()
