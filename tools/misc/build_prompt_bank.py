"""Build DiCoR's prompt bank from the coarse stage's snapshots.

Usage::

    python tools/misc/build_prompt_bank.py \
        configs/dicor/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py \
        work_dirs/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480 \
        [--out DIR] [--epochs 10 15 20 30 39] [--iou-range 0.5 0.99] \
        [--batch-size 16] [--device cuda] [--restart] [--unsafe-load]

Reads ``snapshot_epoch_<N>.pth`` of the coarse work dir (written by the
config's ``EpochSnapshotHook``; the epochs default to the hook's) and
writes ``ep<N>.mmap`` (uint8, one map of the coarse foreground
probability per training sample) and ``manifest.json`` to
``<work dir>/prompt_bank`` (``--out``), where the refiner and guide
configs read it. Interrupted, it continues where it stopped when run
again; ``--iou-range 0.5 0.99`` zeroes the samples whose IoU is outside
the range (the earlier version of DiCoR's builder). The library function
is :func:`mmrrsis.apis.build_prompt_bank`.
"""
import argparse
import os.path as osp
import sys
import time

from mmengine import DictAction

from mmrrsis.apis import PromptBankBuildError, build_prompt_bank
from mmrrsis.apis.prompt_bank import snapshot_files
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.datasets import PromptBankError
from mmrrsis.utils import add_unsafe_load_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Build DiCoR's prompt bank from coarse snapshots")
    parser.add_argument('config', help="the coarse stage's config")
    parser.add_argument('work_dir', help="the coarse stage's work dir")
    parser.add_argument(
        '--out', help='bank folder (default: WORK_DIR/prompt_bank)')
    parser.add_argument(
        '--epochs', type=int, nargs='+',
        help="snapshot epochs (default: the config's EpochSnapshotHook)")
    parser.add_argument(
        '--iou-range', type=float, nargs=2, metavar=('LO', 'HI'),
        help='zero the maps of samples whose IoU is outside [LO, HI]')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--device', help='cpu, cuda, cuda:1 (default: auto)')
    parser.add_argument(
        '--restart', action='store_true',
        help='rebuild snapshots that are complete or partial')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy')
    add_unsafe_load_arg(parser, 'the snapshots')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    out = args.out or osp.join(args.work_dir, 'prompt_bank')
    start = time.time()
    try:
        snapshots = snapshot_files(args.config, args.work_dir, args.epochs)
        manifest = build_prompt_bank(
            args.config,
            snapshots,
            out,
            iou_range=args.iou_range,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            device=args.device,
            cfg_options=args.cfg_options,
            unsafe_load=args.unsafe_load,
            restart=args.restart)
    except (OSError, PromptBankBuildError, PromptBankError,
            UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'prompt bank {out}: {len(manifest["snapshots"])} snapshots of '
          f'{manifest["sample_count"]} maps of {manifest["height"]}x'
          f'{manifest["width"]} ({time.time() - start:.0f} s)')
    return manifest


if __name__ == '__main__':
    main()
