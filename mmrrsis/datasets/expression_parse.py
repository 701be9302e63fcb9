"""Dependency parses of referring expressions, as a dataset cache.

LSCM (Hui et al., ECCV 2020) builds a graph over the words of an
expression from its dependency parse. No parser model may be downloaded
while a model trains or predicts, so the parse is an input that the data
pipeline provides:

1. ``tools/dataset_converters/parse_expressions.py CONFIG`` collects the
   expressions of the config's datasets, parses each once (spaCy with an
   English model the user has installed, as LSCM's ``build_batches.py``;
   or the small rule parser below) and writes one JSON file, the *parse
   cache*, where the config's :class:`~mmrrsis.datasets.transforms.
   LoadExpressionParse` reads it;
2. the transform attaches each sample's parse as ``metainfo['parse']``;
3. the text encoder (``LSTMTextEncoder(use_parse=True)``) turns the parses
   into its words and word graph.

The parse cache::

    {"format": "mmrrsis-expression-parses", "version": 1,
     "parser": "spacy en_core_web_sm 3.7.1", "max_words": 20,
     "parses": {"<expression>": {"tokens": ["car", "on", "the", "road"],
                                 "heads": [0, 0, 3, 1],
                                 "deps": ["ROOT", "prep", "det", "pobj"]},
                ...}}

keyed by the expression as the samples carry it after ``CleanText``
(:func:`parse_key`); ``heads[i]`` is the index of token i's head, the
root's is its own index (spaCy's convention); ``deps`` (labels) is
optional. What is parsed is what LSCM's loader parses: the expression
lower-cased, split into words (:func:`~mmrrsis.datasets.text_utils.
split_words`), cut to ``max_words`` (20) and joined by spaces.
"""
import json
import os
import os.path as osp
import tempfile
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .text_utils import normalize_text, split_words

PARSE_FORMAT = 'mmrrsis-expression-parses'
PARSE_VERSION = 1
#: Words parsed per expression (LSCM's ``build_batches.py``).
DEFAULT_MAX_WORDS = 20
#: The parsers :func:`build_parser` knows.
PARSERS = ('spacy', 'rules')
#: How to (re)write a parse cache, for messages.
PARSE_TOOL = 'python tools/dataset_converters/parse_expressions.py CONFIG'


class ParserUnavailableError(RuntimeError):
    """The chosen parser cannot run here (e.g. spaCy or its model is not
    installed)."""


class MissingParseError(KeyError):
    """An expression has no parse in the cache."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def parse_key(text: str) -> str:
    """The cache key of an expression: the text as ``CleanText`` leaves it
    (:func:`~mmrrsis.datasets.text_utils.normalize_text`)."""
    return normalize_text(text)


def parser_input(text: str, max_words: int = DEFAULT_MAX_WORDS) -> List[str]:
    """The words that are parsed: lower-cased, split, cut to
    ``max_words``."""
    return split_words(text)[:max_words]


# ------------------------------------------------------------ parsers --

_DETERMINERS = frozenset(
    'the a an this that these those its their his her'.split())
_PREPOSITIONS = frozenset("""
on in at along near beside besides between behind by with of to across
through under over above below around inside outside next from into onto
toward towards within without among amongst against opposite alongside
beyond via past underneath beneath like than""".split())
_CONJUNCTIONS = frozenset('and or but'.split())
# nouns (and adjectives) ending like participles
_NOT_VERBS = frozenset('''
building buildings parking marking markings crossing crossings ceiling
housing railing railings clearing clearings landing opening openings
siding dwelling dwellings painting lighting planting plantings evening
morning spring string thing things wing wings ring rings ceiling
speed seed weed bed shed hundred''' .split())


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def rule_parse(text: str, max_words: int = DEFAULT_MAX_WORDS) -> dict:
    """A small rule-based dependency parse of a noun-phrase expression.

    For expressions in RefSegRS' style (``light-duty vehicle driving on the
    road``, ``building along the road``, ``the left side of the white
    car``), where spaCy with an English model is not installed. Rules, over
    the words of :func:`parser_input`:

    - a *chunk* is a run of words that are no preposition, conjunction or
      verb; its last word is its head, every other word (determiner,
      adjective, noun modifier) depends on the head; a hyphen or other
      punctuation depends on the word after it (the last one on the word
      before);
    - a word ending in ``-ing`` or ``-ed`` right after a chunk (not after
      a determiner) and before a preposition or a determiner is a verb
      (``driving``, ``parked``) depending on that chunk's head, unless it
      is one of a few such nouns (``building``, ``parking``, ``marking``,
      ...); elsewhere it belongs to a chunk (``parking area``);
    - a preposition depends on the verb right before it, else on the head
      of the chunk before it (or on a preposition right before it: ``next
      to``); the head of the chunk after it depends on the preposition;
    - a conjunction and the head of the chunk after it depend on the head
      of the chunk before it;
    - the head of the first chunk is the root.

    Args:
        text (str): The expression.
        max_words (int): Words parsed. Defaults to 20.

    Returns:
        dict: ``tokens``, ``heads`` and ``deps`` (labels: ROOT, dep,
        punct, acl, prep, pobj, cc, conj).
    """
    tokens = parser_input(text, max_words)
    n = len(tokens)
    heads = list(range(n))
    deps = ['dep'] * n
    kinds = []
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < n else None
        if not _is_word(tok):
            kinds.append('punct')
        elif tok in _PREPOSITIONS:
            kinds.append('prep')
        elif tok in _CONJUNCTIONS:
            kinds.append('cc')
        elif (tok.endswith(('ing', 'ed')) and len(tok) > 4
              and tok not in _NOT_VERBS and i > 0 and kinds[-1] == 'word'
              and tokens[i - 1] not in _DETERMINERS
              and (nxt in _PREPOSITIONS or nxt in _DETERMINERS)):
            kinds.append('verb')
        else:
            kinds.append('word')
    # chunks: maximal runs of words (punctuation inside a run stays in it)
    chunks: List[List[int]] = []
    for i, kind in enumerate(kinds):
        if kind == 'word' or (kind == 'punct' and chunks and chunks[-1]
                              and chunks[-1][-1] == i - 1 and i + 1 < n
                              and kinds[i + 1] == 'word'):
            if chunks and chunks[-1] and chunks[-1][-1] == i - 1:
                chunks[-1].append(i)
            else:
                chunks.append([i])
    chunk_head = {}
    for chunk in chunks:
        words = [i for i in chunk if kinds[i] == 'word']
        head = words[-1]
        for i in chunk:
            chunk_head[i] = head
            if i == head:
                continue
            if kinds[i] == 'punct':
                heads[i], deps[i] = i + 1, 'punct'
            else:
                heads[i] = head
    root = None
    last_head = None  # head of the latest chunk
    pending = None  # what the next chunk head depends on, and the label
    for i, kind in enumerate(kinds):
        if kind == 'word' and chunk_head.get(i) == i:
            if root is None:
                root, deps[i] = i, 'ROOT'
            elif pending is not None:
                heads[i], deps[i] = pending
            else:
                heads[i], deps[i] = last_head, 'dep'
            last_head, pending = i, None
        elif kind == 'verb':
            anchor = last_head if last_head is not None else i
            heads[i], deps[i] = anchor, 'acl'
            if root is None:
                root, heads[i], deps[i] = i, i, 'ROOT'
        elif kind == 'prep':
            if i > 0 and kinds[i - 1] in ('verb', 'prep'):
                heads[i] = i - 1
            elif last_head is not None:
                heads[i] = last_head
            deps[i] = 'prep'
            pending = (i, 'pobj')
        elif kind == 'cc':
            if last_head is not None:
                heads[i] = last_head
                pending = (last_head, 'conj')
            deps[i] = 'cc'
        elif kind == 'punct' and i not in chunk_head:
            heads[i] = i - 1 if i > 0 else min(i + 1, n - 1)
            deps[i] = 'punct'
    if root is None and n:  # no word at all: the first token
        root = 0
    for i in range(n):
        if heads[i] == i and i != root:
            heads[i], deps[i] = root, deps[i] if deps[i] != 'ROOT' else 'dep'
    if root is not None:
        heads[root], deps[root] = root, 'ROOT'
    return dict(tokens=tokens, heads=heads, deps=deps)


class SpacyParser:
    """Parse with spaCy and an installed English pipeline (LSCM's parser).

    Args:
        model (str): The spaCy pipeline, installed by the user (e.g.
            ``python -m spacy download en_core_web_sm``). Defaults to
            ``'en_core_web_sm'`` (LSCM's).
        max_words (int): Words parsed. Defaults to 20.

    Raises:
        ParserUnavailableError: spaCy or the pipeline is not installed.
    """

    def __init__(self, model: str = 'en_core_web_sm',
                 max_words: int = DEFAULT_MAX_WORDS) -> None:
        try:
            import spacy
        except ImportError:
            raise ParserUnavailableError(
                'spaCy is not installed: pip install spacy and an English '
                f'pipeline ({model}), or use the rule parser (--parser '
                'rules).') from None
        try:
            self.nlp = spacy.load(model, exclude=['ner'])
        except OSError as e:
            raise ParserUnavailableError(
                f'The spaCy pipeline "{model}" is not installed ({e}); '
                f'install it (python -m spacy download {model}) or use the '
                'rule parser (--parser rules).') from None
        self.max_words = max_words
        self.description = (f'spacy {spacy.__version__} {model} '
                            f'{self.nlp.meta.get("version", "")}').strip()

    def __call__(self, text: str) -> dict:
        doc = self.nlp(' '.join(parser_input(text, self.max_words)))
        return dict(
            tokens=[t.text for t in doc],
            heads=[t.head.i for t in doc],
            deps=[t.dep_ for t in doc])


def build_parser(name: str = 'spacy',
                 spacy_model: str = 'en_core_web_sm',
                 max_words: int = DEFAULT_MAX_WORDS
                 ) -> Tuple[Callable[[str], dict], str]:
    """A parser and its description.

    Args:
        name (str): ``'spacy'`` or ``'rules'`` (:func:`rule_parse`).
        spacy_model (str): spaCy pipeline. Defaults to ``'en_core_web_sm'``.
        max_words (int): Words parsed. Defaults to 20.

    Returns:
        tuple: ``(parse(text) -> dict, description)``.
    """
    if name == 'spacy':
        parser = SpacyParser(spacy_model, max_words)
        return parser, parser.description
    if name == 'rules':
        return (lambda text: rule_parse(text, max_words),
                'rules (mmrrsis.datasets.expression_parse.rule_parse)')
    raise ValueError(f'parser must be one of {PARSERS}, got {name!r}.')


# ------------------------------------------------------- the cache file --


def check_parse(entry, where: str) -> dict:
    """Validate one parse; raise ValueError naming ``where`` if broken."""
    if not isinstance(entry, dict):
        raise ValueError(f'{where}: a parse must be an object with "tokens" '
                         f'and "heads", got {type(entry).__name__}.')
    tokens, heads = entry.get('tokens'), entry.get('heads')
    if not isinstance(tokens, list) or not all(
            isinstance(t, str) for t in tokens):
        raise ValueError(f'{where}: "tokens" must be a list of strings.')
    if not isinstance(heads, list) or len(heads) != len(tokens) or not all(
            isinstance(h, int) and 0 <= h < len(tokens) for h in heads):
        raise ValueError(
            f'{where}: "heads" must hold, for each of the {len(tokens)} '
            'tokens, the index of its head (the root: its own index).')
    return entry


_CACHE: Dict[str, Tuple[float, Dict[str, dict]]] = {}


def read_parse_file(path: str) -> Dict[str, dict]:
    """The parses of a cache file (read once per file version).

    Args:
        path (str): The parse cache.

    Returns:
        dict[str, dict]: Expression key -> parse.

    Raises:
        FileNotFoundError: No such file (the message names the tool).
        ValueError: Not a parse cache, or a broken entry (named).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Parse cache {path} not found. LSCM reads the dependency parse '
            f'of every expression from it: write it with {PARSE_TOOL} '
            '(spaCy with an installed English pipeline, or --parser rules).')
    mtime = osp.getmtime(path)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f'Parse cache {path} is not valid JSON ({e}); '
                         f'write it again with {PARSE_TOOL}.') from None
    if not isinstance(data, dict) or data.get('format') != PARSE_FORMAT:
        raise ValueError(f'{path} is not a parse cache (no "format": '
                         f'"{PARSE_FORMAT}"); write one with {PARSE_TOOL}.')
    if data.get('version') != PARSE_VERSION:
        raise ValueError(f'Parse cache {path} has version '
                         f'{data.get("version")}; this mmrrsis reads '
                         f'version {PARSE_VERSION}. Write it again with '
                         f'{PARSE_TOOL}.')
    parses = data.get('parses')
    if not isinstance(parses, dict):
        raise ValueError(f'Parse cache {path} has no "parses" object.')
    for key, entry in parses.items():
        check_parse(entry, f'{path}, parse of "{key}"')
    _CACHE[path] = (mtime, parses)
    return parses


def write_parse_file(path: str,
                     parses: Dict[str, dict],
                     parser: str,
                     max_words: int = DEFAULT_MAX_WORDS) -> None:
    """Write a parse cache atomically (a temporary file moved in place).

    Args:
        path (str): Output file.
        parses (dict[str, dict]): Expression key -> parse.
        parser (str): Which parser made them (kept in the file).
        max_words (int): Words parsed per expression. Defaults to 20.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    head = dict(
        format=PARSE_FORMAT,
        version=PARSE_VERSION,
        parser=parser,
        max_words=max_words)
    # one parse a line: small diffs, easy to read
    lines = [
        f'  {json.dumps(k, ensure_ascii=False)}: '
        f'{json.dumps(parses[k], ensure_ascii=False)}'
        for k in sorted(parses)
    ]
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "parses": {\n' + \
        ',\n'.join(lines) + '\n}}\n'
    fd, tmp = tempfile.mkstemp(prefix='.parses-', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def parse_expressions(texts: Iterable[str],
                      parser: Callable[[str], dict],
                      known: Optional[Dict[str, dict]] = None
                      ) -> Tuple[Dict[str, dict], int]:
    """Parse the distinct expressions that ``known`` lacks.

    Args:
        texts (Iterable[str]): Expressions (raw or cleaned).
        parser (callable): Text -> parse.
        known (dict[str, dict], optional): Parses to keep. Defaults to
            None.

    Returns:
        tuple: ``(parses, added)``: ``known`` plus the new parses, and how
        many were added.
    """
    parses = dict(known or {})
    added = 0
    for text in texts:
        key = parse_key(text)
        if not key or key in parses:
            continue
        parses[key] = check_parse(parser(key), f'the parse of "{key}"')
        added += 1
    return parses, added


# ------------------------------------------------- configs and datasets --


def parse_files_of_config(cfg) -> List[Tuple[str, str]]:
    """Where a config's ``LoadExpressionParse`` steps read parse caches.

    Args:
        cfg (Config | dict): The full config.

    Returns:
        list[tuple[str, str]]: ``(dataloader, parse_file)`` per pipeline
        that reads one.
    """
    from mmrrsis.utils.config_utils import find_steps, iter_pipelines
    found = []
    for where, ds in iter_pipelines(cfg):
        pipeline = ds['pipeline']
        for i in find_steps(pipeline, ('LoadExpressionParse', )):
            path = pipeline[i].get('parse_file')
            if path:
                found.append((where.split('.')[0], path))
    return found


def iter_config_expressions(cfg, loaders: Iterable[str]) -> Iterator[str]:
    """Every expression of the datasets of some dataloaders of a config.

    The datasets are built without their pipelines (generated datasets are
    generated if they are not there yet); a reference with several
    sentences yields each of them.

    Args:
        cfg (Config | dict): The full config.
        loaders (Iterable[str]): E.g. ``('train_dataloader', ...)``.

    Yields:
        str: Expressions, raw.
    """
    import copy

    from mmrrsis.registry import DATASETS
    from mmrrsis.utils.config_utils import iter_dataset_cfgs
    for _, ds in iter_dataset_cfgs(cfg, tuple(loaders)):
        if ds.get('dataset') is not None or ds.get('datasets') is not None:
            continue  # a wrapper: its datasets come next
        ds = copy.deepcopy(dict(ds))
        ds.update(pipeline=[], lazy_init=False)
        dataset = DATASETS.build(ds)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            if info.get('text') is not None:
                yield info['text']
            yield from info.get('texts') or ()


def write_config_parses(cfg,
                        loaders: Iterable[str] = ('train_dataloader',
                                                  'val_dataloader',
                                                  'test_dataloader'),
                        parser: str = 'spacy',
                        spacy_model: str = 'en_core_web_sm',
                        out: Optional[str] = None,
                        overwrite: bool = False,
                        max_words: int = DEFAULT_MAX_WORDS) -> List[dict]:
    """Parse the expressions of a config's datasets into its parse
    cache(s) (what ``tools/dataset_converters/parse_expressions.py``
    does).

    Args:
        cfg (Config | dict): The full config.
        loaders (Iterable[str]): Dataloaders whose datasets are parsed.
            Defaults to all three.
        parser (str): ``'spacy'`` or ``'rules'``. Defaults to ``'spacy'``.
        spacy_model (str): Defaults to ``'en_core_web_sm'``.
        out (str, optional): The cache to write; None writes every
            ``parse_file`` the config's ``LoadExpressionParse`` steps
            read. Defaults to None.
        overwrite (bool): Drop the parses a cache already holds (else they
            are kept and only new expressions are parsed). Defaults to
            False.
        max_words (int): Words parsed. Defaults to 20.

    Returns:
        list[dict]: Per file written: ``path``, ``parser``,
        ``expressions`` (distinct, of the config), ``added``, ``total``.
    """
    paths = [out] if out else list(
        dict.fromkeys(path for _, path in parse_files_of_config(cfg)))
    if not paths:
        raise ValueError(
            'The config reads no parse cache (no LoadExpressionParse with '
            'a parse_file in its pipelines); give the output file (--out).')
    parse, description = build_parser(parser, spacy_model, max_words)
    texts = list(
        dict.fromkeys(parse_key(t)
                      for t in iter_config_expressions(cfg, loaders)))
    written = []
    for path in paths:
        known = {} if overwrite or not osp.isfile(path) else \
            read_parse_file(path)
        parses, added = parse_expressions(texts, parse, known)
        write_parse_file(path, parses, description, max_words)
        written.append(
            dict(
                path=path,
                parser=description,
                expressions=len(texts),
                added=added,
                total=len(parses)))
    return written


__all__ = [
    'write_config_parses', 'PARSE_FORMAT', 'PARSE_VERSION', 'PARSERS',
    'PARSE_TOOL', 'DEFAULT_MAX_WORDS', 'ParserUnavailableError',
    'MissingParseError',
    'parse_key', 'parser_input', 'rule_parse', 'SpacyParser', 'build_parser',
    'check_parse', 'read_parse_file', 'write_parse_file',
    'parse_expressions', 'parse_files_of_config', 'iter_config_expressions'
]
