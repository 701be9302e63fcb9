"""Parse the expressions of a config's datasets into its parse cache.

LSCM reads the dependency parse of every expression (its word graph) from
a cache file that ``LoadExpressionParse(parse_file=...)`` names in the
config; this tool writes it::

    python tools/dataset_converters/parse_expressions.py \
        configs/lscm/lscm_r101-d8_1xb1-700k_refsegrs-320x320.py

Parser: spaCy with an installed English pipeline (LSCM's:
``pip install spacy && python -m spacy download en_core_web_sm``; nothing
is downloaded here), or ``--parser rules``, a small rule parser for
noun-phrase expressions (mmrrsis.datasets.expression_parse.rule_parse).
Parses already in the file are kept unless ``--overwrite``.
"""
import argparse
import sys

from mmrrsis.datasets.expression_parse import (
    DEFAULT_MAX_WORDS,
    PARSERS,
    ParserUnavailableError,
    write_config_parses,
)
from mmrrsis.utils.cli_args import (
    add_dataset_config_args,
    dataset_config_from_args,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write the dependency parses of a config\'s expressions')
    add_dataset_config_args(parser)
    parser.add_argument('--parser', choices=PARSERS, default='spacy')
    parser.add_argument('--spacy-model', default='en_core_web_sm')
    parser.add_argument(
        '--out', help='the cache file (default: the parse_file of the '
        'config\'s LoadExpressionParse steps)')
    parser.add_argument('--overwrite', action='store_true',
                        help='drop the parses the file holds')
    parser.add_argument('--max-words', type=int, default=DEFAULT_MAX_WORDS)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg, loaders = dataset_config_from_args(args)
    try:
        written = write_config_parses(cfg, loaders, args.parser,
                                      args.spacy_model, args.out,
                                      args.overwrite, args.max_words)
    except (ParserUnavailableError, ValueError, OSError) as e:
        sys.exit(f'error: {e}')
    for w in written:
        print(f'{w["path"]}: {w["expressions"]} expressions, {w["added"]} '
              f'parsed now, {w["total"]} parses in the file ({w["parser"]})')
    return written


if __name__ == '__main__':
    main()
