"""Write the word vocabulary (and GloVe vectors) of a config's datasets.

The LSTM text encoder of LSCM and CMPC+ (``LSTMTextEncoder``) looks words
up in a vocabulary file and starts its embedding table from GloVe vectors;
this tool writes both where the config's ``model.text_encoder`` reads them
(``vocab``, ``embeddings``)::

    python tools/dataset_converters/build_word_vocab.py \
        configs/cmpc/cmpc+_r101-d8_1xb1-700k_refsegrs-320x320.py \
        --glove glove.840B.300d.txt

GloVe (the references' ``glove.840B.300d``) is a file the user has; words
it lacks get random vectors, as in the references. The vocabulary counts
the training split by default (``--splits``).
"""
import argparse
import sys

from mmrrsis.models.text_encoders.word_vocab import write_config_vocab
from mmrrsis.utils.cli_args import (
    add_dataset_config_args,
    dataset_config_from_args,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write the word vocabulary and GloVe vectors of a '
        'config\'s datasets')
    add_dataset_config_args(parser, splits=('train', ))
    parser.add_argument('--glove', help='a GloVe text file')
    parser.add_argument('--min-count', type=int, default=1)
    parser.add_argument('--vocab-out',
                        help='default: model.text_encoder.vocab')
    parser.add_argument('--embeddings-out',
                        help='default: model.text_encoder.embeddings')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg, loaders = dataset_config_from_args(args)
    try:
        result = write_config_vocab(cfg, loaders, args.glove, args.min_count,
                                    args.vocab_out, args.embeddings_out)
    except (ValueError, OSError) as e:
        sys.exit(f'error: {e}')
    print(f'{result["vocab"]}: {result["words"]} words')
    if result['embeddings']:
        print(f'{result["embeddings"]}: vectors of {result["covered"]} of '
              'them from GloVe, the others random')
    return result


if __name__ == '__main__':
    main()
