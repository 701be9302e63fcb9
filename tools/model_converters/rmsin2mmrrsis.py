"""Convert an RMSIN reference checkpoint (Lsan2401/RMSIN) for mmrrsis.

Usage::

    python tools/model_converters/rmsin2mmrrsis.py model_best_RMSIN.pth \
        work_dirs/rmsin_rrsisd_mmrrsis.pth [--bert bert_state.pth]

RMSIN's train.py saves ``{'model', 'optimizer', 'epoch', 'args',
'lr_scheduler'}`` (plus ``'bert_model'`` for its ``lavt`` variant; the
default ``lavt_one`` keeps BERT in ``model``). The file is read with
``torch.load(weights_only=True)``: tensors and plain containers only, plus
``argparse.Namespace`` (its ``args``); nothing in it can run code. The
result loads strictly into ``configs/rmsin/rmsin_swin-b_*.py`` (RMSIN's
own test.py loads with ``strict=False``). The key mapping is
:func:`mmrrsis.models.utils.convert_rmsin`.
"""
import argparse
import pickle

import torch

from mmrrsis.models.utils import convert_rmsin, save_converted


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an RMSIN checkpoint into mmrrsis keys')
    parser.add_argument('src', help='RMSIN checkpoint file')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--bert',
        help='separate BERT state dict, when SRC does not hold BERT')
    return parser.parse_args(argv)


def load_weights(path: str) -> dict:
    """``torch.load(path, weights_only=True)``, allowing the
    ``argparse.Namespace`` that RMSIN stores as ``args``."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        raise RuntimeError(
            f'{path} holds objects other than tensors, containers and '
            'argparse.Namespace, which this converter does not unpickle '
            f'(nothing in it was run): {error}') from None


def main(argv=None) -> None:
    args = parse_args(argv)
    checkpoint = load_weights(args.src)
    bert_state = None
    if args.bert:
        bert_state = load_weights(args.bert)
        bert_state = bert_state.get('bert_model', bert_state)
    state_dict = convert_rmsin(checkpoint, bert_state)
    save_converted(state_dict, args.dst, args.src)
    print(f'{len(state_dict)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
