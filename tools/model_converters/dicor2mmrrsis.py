"""Convert DiCoR reference checkpoints (zyGao1126/DiCoR) for mmrrsis.

Usage::

    # the full test model: joint stage + refiner
    python tools/model_converters/dicor2mmrrsis.py joint_best.pth dicor.pth \
        --refiner refiner.pth \
        [--config configs/dicor/dicor_swin-b_refsegrs-480x480.py]
    # the coarse model (e.g. a snapshot, to build a prompt bank)
    python tools/model_converters/dicor2mmrrsis.py coarse_best.pth \
        coarse.pth [--config \
        configs/dicor/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py]

DiCoR saves one file per stage: ``coarse_*.pth`` and ``joint_best.pth``
(``model`` + ``args``, a plain dict), ``refiner.pth`` (the refiner's bare
state dict) and ``localization_guidance_*.pth`` (the guide adapter's);
``--refiner`` and ``--guide`` add the latter two to SRC. The saved
arguments give the config values the weights need (window, PWAM heads,
VMSF blocks, token limit, guide alpha), recorded in the output's
``meta['expected_cfg']``; with ``--config`` they are checked against the
config (a difference stops with the ``--cfg-options`` that fixes it) and
the weights are loaded into its model strictly. Files are read without
running code from them (``--unsafe-load`` for trusted files that need
it). The key map is :func:`mmrrsis.models.converters.convert_dicor`.
"""
import argparse
import sys

from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.models.converters import DiCoRConversionError, convert_dicor_files
from mmrrsis.utils import add_unsafe_load_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert DiCoR checkpoints into mmrrsis keys')
    parser.add_argument('src', help='a DiCoR file (coarse_*.pth, '
                        'joint_best.pth, refiner.pth, guide adapter)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument('--refiner', help='refiner.pth to add')
    parser.add_argument('--guide', help='localization_guidance_*.pth to add')
    parser.add_argument(
        '--config', help='check the saved arguments and the keys against '
        'this config')
    add_unsafe_load_arg(parser, 'the inputs')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        result = convert_dicor_files(args.src, args.dst, args.refiner,
                                     args.guide, args.config,
                                     args.unsafe_load)
    except (OSError, UnsafeCheckpointError, CorruptCheckpointError,
            DiCoRConversionError) as e:
        sys.exit(f'error: {e}')
    print(f'{result["tensors"]} tensors ({", ".join(result["kinds"])}) '
          f'written to {args.dst}')
    for key, value in result['expected_cfg'].items():
        print(f'  trained with {key}={value}')
    return result


if __name__ == '__main__':
    main()
