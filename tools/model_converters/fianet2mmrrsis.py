"""Convert a FIANet reference checkpoint (Shaosifan/FIANet) for mmrrsis.

Usage::

    python tools/model_converters/fianet2mmrrsis.py model_best_FIANet.pth \
        work_dirs/fianet_refsegrs_mmrrsis.pth \
        [--config configs/fianet/fianet_swin-b_1xb8-60e_refsegrs-480x480.py]

FIANet's train.py saves ``{'model', 'optimizer', 'epoch', 'args',
'lr_scheduler', 'best_oIoU'}`` with BERT inside ``model``. The file is
read without running code from it: weights, numbers and the
``argparse.Namespace`` of its ``args`` (``--unsafe-load`` unpickles it
completely; trusted files only). The saved arguments are applied or
refused: the number of TMEM blocks, the window size and the dataset's
token limit are recorded in the output's ``meta`` (``config_options``)
and, with ``--config``, checked against that config; a model mmrrsis'
FIANet cannot be (another Swin, several attention heads) is refused,
naming the option. The result loads strictly into
``configs/fianet/fianet_swin-b_*.py``. The key mapping is
:func:`mmrrsis.models.converters.convert_fianet`.
"""
import argparse
import sys

from mmengine.config import Config

from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.models.converters import convert_fianet_file
from mmrrsis.utils import add_unsafe_load_arg


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description='Convert a FIANet checkpoint into mmrrsis keys')
    parser.add_argument('src', help='FIANet checkpoint (path or URL)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--config', help='check the weights against this mmrrsis config')
    add_unsafe_load_arg(parser, 'the input')
    args = parser.parse_args(argv)
    config = Config.fromfile(args.config) if args.config else None
    try:
        meta = convert_fianet_file(args.src, args.dst, config,
                                   args.unsafe_load)
    except (OSError, ValueError, KeyError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    options = meta['config_options']
    print(f'written to {args.dst}; the weights need: ' + ', '.join(
        f'{k}={v}' for k, v in options.items()))
    return meta


if __name__ == '__main__':
    main()
