"""Check a dataset copy against its config before training on it.

Reads every sample of every split once (in parallel) and reports counts per
split and category, missing / empty / unreadable files, image and mask
size mismatches (and what the loader does with them), empty masks, masks
the dataset's binarisation rule would read wrongly, duplicate expressions,
expressions over the token limit and refs whose annotation or image is
missing; grey and EXIF-oriented images, polygon parts too short to draw,
repeated and blank annotation lines (with line numbers), how mask files
are stored (0/1, 0/255), no-target and multi-target samples, and the copy
against its dataset's published counts ("17,339 of 17,402 images: 63
missing, e.g. ..."). Exits 0 when the set is usable, 1 with the list of
problems when not. The checks are :func:`mmrrsis.doctor.check_dataset`.

Examples::

    python tools/dataset_converters/check_dataset.py \
        configs/lgce/lgce_swin-b_4xb8-40e_rrsisd-480x480.py
    python tools/dataset_converters/check_dataset.py \
        configs/_base_/datasets/refsegrs.py --split test \
        --cfg-options test_dataloader.dataset.data_root=/data/RefSegRS \
        --out refsegrs_report.json
"""
import argparse
import json
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmrrsis.doctor import SPLITS, check_dataset, format_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Read every sample of a config\'s datasets and report '
        'what is wrong with them')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--split', nargs='+', default=list(SPLITS), choices=SPLITS,
        help='dataloaders to check (default: all three)')
    parser.add_argument('--out', help='also write the report as JSON')
    parser.add_argument(
        '--nproc', type=int, help='processes decoding files (default: CPUs)')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy format')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    report = check_dataset(
        cfg, args.split, nproc=args.nproc, show_progress=not args.quiet)
    print(format_report(report))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)
    return 0 if report['usable'] else 1


if __name__ == '__main__':
    sys.exit(main())
