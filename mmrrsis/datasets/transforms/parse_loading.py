"""Attach the dependency parse of the expression (LSCM's word graph)."""
from typing import Dict, Optional

from mmrrsis.registry import TRANSFORMS

from ..expression_parse import (
    DEFAULT_MAX_WORDS,
    PARSE_TOOL,
    MissingParseError,
    parse_key,
    read_parse_file,
    rule_parse,
)
from .loading import describe_sample
from .text import TextTransform


@TRANSFORMS.register_module()
class LoadExpressionParse(TextTransform):
    """Attach the dependency parse of the sample's expression.

    The parse comes from a parse cache written by
    ``tools/dataset_converters/parse_expressions.py CONFIG`` (spaCy, as
    LSCM's loader; see :mod:`mmrrsis.datasets.expression_parse`), looked up
    by the expression; or, with ``parser='rules'`` and no file, from the
    small rule parser (:func:`~mmrrsis.datasets.expression_parse.
    rule_parse`), run here (the generated datasets' configs use it, so they
    train with no extra step). ``PackRRSISInputs`` packs it as
    ``metainfo['parse']``, which ``LSTMTextEncoder(use_parse=True)`` reads.
    A text step: inference runs it on each new expression too (with
    ``parser='rules'`` it parses it; a ``parse_file`` holds the dataset's
    expressions only, and another expression stops with the tool's name).

    Put it after ``CleanText`` (the cache is keyed by the cleaned text) and
    after every transform that changes the text (e.g. a flip that swaps
    ``left`` and ``right``): the encoder refuses a parse made for another
    text.

    Required Keys:

    - text (str)

    Added Keys:

    - parse (dict): ``text`` (the expression it was made for), ``tokens``
      (list[str]) and ``heads`` (list[int], the root's is its own index)

    Args:
        parse_file (str, optional): The parse cache. Defaults to None.
        parser (str, optional): ``'rules'``: parse here when there is no
            ``parse_file``. Defaults to None.
        max_words (int): Words parsed by the rule parser. Defaults to 20.

    Raises:
        MissingParseError: The cache has no parse of the expression (the
            message names the expression, the sample, the file and the
            tool).
        FileNotFoundError: The cache file is missing (named, with the
            tool).
    """

    def __init__(self,
                 parse_file: Optional[str] = None,
                 parser: Optional[str] = None,
                 max_words: int = DEFAULT_MAX_WORDS) -> None:
        if (parse_file is None) == (parser is None):
            raise ValueError(
                'LoadExpressionParse needs exactly one source: parse_file '
                f'(written by {PARSE_TOOL}) or parser="rules".')
        if parser not in (None, 'rules'):
            raise ValueError(
                f'LoadExpressionParse parses only with parser="rules" (got '
                f'{parser!r}); spaCy parses are written to a parse_file by '
                f'{PARSE_TOOL}.')
        self.parse_file = parse_file
        self.parser = parser
        self.max_words = max_words
        self._rule_cache: Dict[str, dict] = {}

    def _lookup(self, key: str, results: dict) -> dict:
        if self.parser == 'rules':
            parse = self._rule_cache.get(key)
            if parse is None:
                parse = rule_parse(key, self.max_words)
                self._rule_cache[key] = parse
            return parse
        parses = read_parse_file(self.parse_file)
        parse = parses.get(key)
        if parse is None:
            raise MissingParseError(
                f'No dependency parse of the expression "{key}" '
                f'({describe_sample(results)}) in {self.parse_file} '
                f'({len(parses)} parses). Write the parses of the '
                f'config\'s datasets with {PARSE_TOOL}.')
        return parse

    def transform(self, results: dict) -> dict:
        """Add ``results['parse']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with its parse.
        """
        text = results.get('text')
        if not isinstance(text, str):
            raise KeyError(f'{describe_sample(results)} has no text (str) to '
                           'parse; put LoadExpressionParse after '
                           'RandomSentence and CleanText.')
        key = parse_key(text)
        parse = self._lookup(key, results)
        results['parse'] = dict(
            text=key,
            tokens=list(parse['tokens']),
            heads=list(parse['heads']))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(parse_file={self.parse_file!r}, '
                f'parser={self.parser!r}, max_words={self.max_words})')
