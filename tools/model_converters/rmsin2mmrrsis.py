"""Convert an RMSIN reference checkpoint (Lsan2401/RMSIN) for mmrrsis.

Usage::

    python tools/model_converters/rmsin2mmrrsis.py model_best_RMSIN.pth \
        work_dirs/rmsin_rrsisd_mmrrsis.pth [--bert bert_state.pth]

RMSIN's train.py saves ``{'model', 'optimizer', 'epoch', 'args',
'lr_scheduler'}`` (plus ``'bert_model'`` for its ``lavt`` variant; the
default ``lavt_one`` keeps BERT in ``model``). The file is read
without running code from it: weights, numbers and the
``argparse.Namespace`` of its ``args``
(:data:`mmrrsis.compat.REFERENCE_GLOBALS`); ``--unsafe-load`` unpickles it
completely (trusted files only). The result loads strictly into
``configs/rmsin/rmsin_swin-b_*.py`` (RMSIN's own test.py loads with
``strict=False``). The key mapping is
:func:`mmrrsis.models.utils.convert_rmsin`.
"""
import argparse
import sys

from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.models.utils import convert_reference_checkpoint, convert_rmsin


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an RMSIN checkpoint into mmrrsis keys')
    parser.add_argument('src', help='RMSIN checkpoint (path or URL)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--bert',
        help='separate BERT state dict, when SRC does not hold BERT')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='unpickle the inputs completely (runs code named in the file; '
        'only for files you trust)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        count = convert_reference_checkpoint(
            convert_rmsin, args.src, args.dst, args.bert, args.unsafe_load)
    except (OSError, UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'{count} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
