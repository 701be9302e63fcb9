"""Check the pretrained weights a config names, before a long run.

Resolves every pretrained file of the config (``init_cfg`` checkpoints:
local paths, URLs in torch hub's cache, ``open-mmlab://`` names; text
encoders' ``pretrained``: local folders or the HuggingFace cache) without
downloading anything, says which are missing and how to get them, and
compares each local file with the model the config builds (keys after the
loader's prefix handling, shapes). Exits 0 when every file is there and
fits, 1 otherwise. The checks are :func:`mmrrsis.doctor.check_weights`.

Examples::

    python tools/misc/check_weights.py configs/lavt_swin-b.py
    python tools/misc/check_weights.py \
        configs/mix/lavt_convnext-b_4xb8-40e_refsegrs-480x480.py \
        --cfg-options model.backbone.encoder.init_cfg.checkpoint=convnext.pth
"""
import argparse
import json
import sys
from dataclasses import asdict

from mmengine.config import DictAction

from mmrrsis.doctor import check_weights, format_weights_report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Resolve and check the pretrained files of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--no-verify',
        action='store_true',
        help='only resolve the files (do not build the model and compare)')
    parser.add_argument('--out', help='also write the report as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    checks = check_weights(args.config, args.cfg_options,
                           verify=not args.no_verify)
    print(format_weights_report(checks))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump([dict(asdict(c), ok=c.ok) for c in checks], f,
                      indent=2)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
