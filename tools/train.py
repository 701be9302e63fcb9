"""Train a referring segmentor.

Examples::

    python tools/train.py configs/lgce_swin-b.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    python tools/train.py CONFIG --amp      # fp16 on CUDA, bf16 on CPU
    bash tools/dist_train.sh CONFIG 8       # 8 processes (torchrun)
    bash tools/dist_train.sh CONFIG 8 --strategy fsdp   # or deepspeed, ddp

Checkpoints (``load_from``, ``--resume``) are read without running code
from them; ``--unsafe-load`` unpickles them completely (trusted files
only, e.g. checkpoints written by plain mmengine). Their weights are
checked as for inference: NaN/Inf or absurd values, integer tensors for
floating-point weights, and missing, unexpected or wrongly shaped keys stop
the run naming the tensors (``--cfg-options load_from_strict=False`` loads
only what fits and logs every key skipped).
"""
import argparse
import logging
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

# importing mmrrsis applies its compatibility fixes before mmseg is used
from mmrrsis.apis import CheckpointMismatchError, check_text_model
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.engine import (
    DataNotFoundError,
    DistTimeoutError,
    ResumeError,
    StrategyUnavailableError,
    apply_strategy,
    build_runner,
    destroy_dist,
)
from mmrrsis.utils import add_unsafe_load_arg, register_all_modules

AMP_WRAPPERS = ('AmpOptimWrapper', 'AutocastOptimWrapper')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a referring '
                                     'segmentor')
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='folder of logs and checkpoints')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        default=None,
        metavar='CHECKPOINT',
        help='continue a stopped run (weights, optimizer, scheduler, '
        'iteration, random states): from CHECKPOINT, or without it from the '
        'newest checkpoint of the work dir that loads')
    add_unsafe_load_arg(parser, 'checkpoints')
    parser.add_argument(
        '--strategy',
        choices=['ddp', 'fsdp', 'deepspeed'],
        help='training engine: ddp (the default runner), fsdp (mmengine\'s '
        'FlexibleRunner with FSDP, GPUs or CPU processes), deepspeed '
        '(ZeRO-2, bf16, CUDA GPUs); default: what the config says')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 with loss scaling on CUDA '
        '(AmpOptimWrapper), bf16 autocast on CPU (AutocastOptimWrapper)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value (e.g. '
        'env_cfg.dist_cfg.backend=gloo train_cfg.max_epochs=2)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to mixed precision, in place."""
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper in AMP_WRAPPERS:
        print_log(f'Mixed precision is already on ({wrapper}).',
                  logger='current', level=logging.WARNING)
        return
    if wrapper == 'StepInBackwardOptimWrapper':
        if cfg.optim_wrapper.get('dtype') is not None:
            print_log(f'Mixed precision is already on ({wrapper}, '
                      f'{cfg.optim_wrapper.dtype}).',
                      logger='current', level=logging.WARNING)
        else:  # bf16 autocast, CPU or CUDA: no loss scaling in backward
            cfg.optim_wrapper.dtype = 'bfloat16'
        return
    if wrapper != 'OptimWrapper':
        raise ValueError('--amp needs optim_wrapper.type="OptimWrapper" '
                         'or "StepInBackwardOptimWrapper", the config has '
                         f'"{wrapper}"')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'Config file not found: {args.config}')
    register_all_modules(init_default_scope=False)

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.strategy is not None:
        apply_strategy(cfg, args.strategy)
    if args.amp:
        enable_amp(cfg)
    if args.unsafe_load:
        cfg.unsafe_load = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None  # the latest checkpoint of the work dir
    elif args.resume is not None:
        if not osp.exists(args.resume):  # DeepSpeed's is a folder
            raise SystemExit(f'Checkpoint to resume not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume

    try:
        runner = build_runner(cfg)
    except (DataNotFoundError, StrategyUnavailableError) as e:
        # before the model is built
        raise SystemExit(f'error: {e}') from None
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    try:
        # the FlexibleRunner builds its model when training starts
        if isinstance(model, torch.nn.Module):
            check_text_model(model, args.config)
    except ValueError as e:
        raise SystemExit(f'error: {e}') from None
    try:
        runner.train()
    except (UnsafeCheckpointError, CorruptCheckpointError, ResumeError,
            CheckpointMismatchError, DistTimeoutError) as e:
        raise SystemExit(f'error: {e}') from None
    destroy_dist(runner)


if __name__ == '__main__':
    main()
