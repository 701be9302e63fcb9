"""Convert a LAVT reference checkpoint (yz93/LAVT-RIS) for mmrrsis.

Usage::

    python tools/model_converters/lavt2mmrrsis.py model_best_refcoco.pth \
        work_dirs/lavt_refcoco_mmrrsis.pth [--bert bert_state.pth]

The result loads into ``configs/lavt_swin-b.py`` with no missing or
unexpected keys (``load_from=...`` or ``tools/test.py CONFIG CKPT``). The
key mapping is :func:`mmrrsis.models.utils.convert_lavt`.

The source is read without running code from it: weights, numbers and the
``argparse.Namespace`` of the command line that LAVT's ``train.py`` saves
(:data:`mmrrsis.compat.REFERENCE_GLOBALS`); ``--unsafe-load`` unpickles it
completely (trusted files only).
"""
import argparse
import sys

from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.models.utils import convert_lavt, convert_reference_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a LAVT checkpoint into mmrrsis keys')
    parser.add_argument('src', help='LAVT checkpoint (path or URL)')
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
            convert_lavt, args.src, args.dst, args.bert, args.unsafe_load)
    except (OSError, UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'{count} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
