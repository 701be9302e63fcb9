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
import os
import os.path as osp
import sys

import torch

from mmrrsis.compat import (
    REFERENCE_GLOBALS,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    load_checkpoint_file,
)
from mmrrsis.models.utils import convert_lavt


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


def load(path: str, unsafe_load: bool):
    """Read a reference checkpoint (weights, numbers, its ``args``)."""
    try:
        return load_checkpoint_file(
            path,
            map_location='cpu',
            unsafe_load=unsafe_load,
            extra_safe_globals=REFERENCE_GLOBALS)
    except (OSError, UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')


def main(argv=None) -> None:
    args = parse_args(argv)
    checkpoint = load(args.src, args.unsafe_load)
    bert_state = None
    if args.bert:
        bert_state = load(args.bert, args.unsafe_load)
        if 'bert_model' in bert_state:
            bert_state = bert_state['bert_model']
    state_dict = convert_lavt(checkpoint, bert_state)
    if not any(k.startswith('text_encoder.') for k in state_dict):
        print('warning: no BERT weights found (neither "bert_model" nor '
              '"text_encoder.*" in SRC, nor --bert); the text encoder keeps '
              'the weights of its config.')
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(
        dict(state_dict=state_dict, meta=dict(converted_from=args.src)),
        args.dst)
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
