"""FIANet's split of an expression into object words and spatial phrases,
found with NLTK's tokenizer, part-of-speech tagger and chunker."""
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmrrsis.registry import TRANSFORMS

from ..text_utils import REFSEGRS_CATEGORIES, RRSISD_CATEGORIES
from .loading import describe_sample
from .text import TextTransform

#: Named class lists of ``classes``.
OBJECT_CLASSES = dict(refsegrs=REFSEGRS_CATEGORIES, rrsisd=RRSISD_CATEGORIES)

#: The chunk grammar of a spatial phrase: a preposition, an optional
#: determiner and adjectives, then a noun, an adjective or a past tense
#: (``in the parking area`` -> ``in the parking``; ``on the left``).
SPATIAL_GRAMMAR = r"""
PP: {<IN><DT>?<JJ.*>?<NN>}
    {<IN><DT>?<JJ.*>?<JJ>}
    {<IN><DT>?<JJ.*><VBD>}
"""

#: The NLTK data the default tokenizer and tagger read, as
#: ``(package, resource path)``.
NLTK_RESOURCES = (('punkt_tab', 'tokenizers/punkt_tab/english/'),
                  ('averaged_perceptron_tagger_eng',
                   'taggers/averaged_perceptron_tagger_eng/'))

#: Part-of-speech tags of the words of the generated data's expressions
#: (``mmrrsis.datasets.synthetic``); other words are tagged ``NN``.
SYNTHETIC_LEXICON = dict(
    {w: 'DT' for w in ('the', 'a')},
    **{w: 'IN' for w in ('on', 'in', 'along', 'near')},
    **{
        w: 'JJ'
        for w in ('light-duty', 'heavy', 'long', 'large', 'low',
                  'impervious', 'white', 'black', 'red', 'blue', 'gray')
    },
    driving='VBG')

#: Named lexicons of ``lexicon``.
LEXICONS = dict(synthetic=SYNTHETIC_LEXICON)


class NLTKResourceError(LookupError):
    """NLTK data that the text split needs is not installed."""


def _import_nltk():
    try:
        import nltk
    except ImportError as e:
        raise ImportError(
            'ObjectPositionPhrases needs NLTK: pip install "mmrrsis[nltk]" '
            '(or pip install -r requirements/nltk.txt).') from e
    return nltk


def find_nltk_resource(package: str, path: str):
    """Where NLTK's data ``path`` is installed.

    Args:
        package (str): The package that holds it, for the message.
        path (str): The resource, e.g. ``'tokenizers/punkt_tab/english/'``.

    Returns:
        The path pointer ``nltk.data.find`` gives.

    Raises:
        NLTKResourceError: It is not in any folder of ``nltk.data.path``;
            the message names the package and how to install it. Nothing
            is downloaded.
    """
    nltk = _import_nltk()
    try:
        return nltk.data.find(path)
    except LookupError:
        folders = ', '.join(map(str, nltk.data.path))
        raise NLTKResourceError(
            f'The NLTK resource "{package}" ({path}) is not installed; the '
            'object/spatial-phrase split of FIANet (ObjectPositionPhrases) '
            'needs it and mmrrsis never downloads it. Install it once, on '
            f'a machine with network access: python -m nltk.downloader '
            f'{package}  (or copy its folder into one of: {folders}; the '
            'NLTK_DATA environment variable adds a folder). Without NLTK '
            "data, set ObjectPositionPhrases' lexicon (and "
            'sentence_split=False), as the synthetic configs do.') from None


def _nltk_tokenizer(sentence_split: bool) -> Callable[[str], List[str]]:
    """NLTK's ``word_tokenize``: Punkt sentences (with ``sentence_split``)
    then the improved Treebank word tokenizer."""
    _import_nltk()
    from nltk.tokenize import NLTKWordTokenizer
    words = NLTKWordTokenizer()
    if not sentence_split:
        return words.tokenize
    from nltk.tokenize.punkt import PunktTokenizer
    find_nltk_resource(*NLTK_RESOURCES[0])
    sentences = PunktTokenizer('english')

    def tokenize(text: str) -> List[str]:
        return [w for s in sentences.tokenize(text) for w in words.tokenize(s)]

    return tokenize


def _nltk_tagger() -> Callable[[List[str]], List[Tuple[str, str]]]:
    """NLTK's default English tagger (what ``nltk.pos_tag`` uses)."""
    _import_nltk()
    from nltk.tag.perceptron import PerceptronTagger
    tagger = PerceptronTagger(load=False)
    tagger.load_from_json('eng', find_nltk_resource(*NLTK_RESOURCES[1]))
    return tagger.tag


def object_position_phrases(text: str,
                            classes: Sequence[str],
                            tokenize: Callable[[str], List[str]],
                            tag: Callable[[List[str]], List[Tuple[str,
                                                                  str]]],
                            chunk: Callable) -> Dict[str, Optional[list]]:
    """The positions of an expression's object words and spatial phrases.

    FIANet's rule (its data loaders), with ``W`` the words of ``text``
    (``tokenize``); position ``p`` is word ``p - 1``, i.e. counted with
    ``[CLS]`` at 0 as if each word were one BERT token (the reference puts
    these masks on BERT's ids unaligned; a word BERT splits shifts the rest):

    - object: for every class of ``classes`` found in ``text`` (as a
      regular expression, anywhere: ``car`` also in ``cars`` and
      ``scar``), the class's own words from the first word of ``W`` that
      contains the class's first word (else from word 0);
    - position: the chunks of ``chunk`` over the tagged words whose text
      has no ``of`` (anywhere: ``roof`` too), each from the first word of
      ``W`` equal to the chunk's first word.

    Args:
        text (str): The expression.
        classes (Sequence[str]): Object class names.
        tokenize (callable): str -> words.
        tag (callable): words -> (word, tag) pairs.
        chunk (callable): tagged words -> an ``nltk.Tree`` whose ``PP``
            subtrees are the spatial phrases.

    Returns:
        dict: ``object`` (sorted positions, possibly empty) and
        ``position`` (sorted positions, or None when there is no spatial
        phrase: the whole expression stands for it).
    """
    words = tokenize(text)
    objects = set()
    for name in classes:
        if re.search(name, text) is None:
            continue
        parts = tokenize(name)
        start = next((i for i, w in enumerate(words)
                      if re.search(parts[0], w)), 0)
        objects.update(range(start + 1, start + len(parts) + 1))
    positions = set()
    for tree in chunk(tag(words)).subtrees():
        if tree.label() != 'PP':
            continue
        phrase = ' '.join(word for word, _ in tree.leaves())
        if re.search('of', phrase):
            continue
        parts = tokenize(phrase)
        start = next((i for i, w in enumerate(words) if w == parts[0]), 0)
        positions.update(range(start + 1, start + len(parts) + 1))
    return dict(
        object=sorted(objects), position=sorted(positions) or None)


@TRANSFORMS.register_module()
class ObjectPositionPhrases(TextTransform):
    """Find the object words and spatial phrases of the expression (FIANet).

    FIANet's text encoder runs BERT three times on an expression: on all
    of it, on its object words only and on its spatial phrases only; its
    data loaders find those words with NLTK, and so does this transform,
    with :func:`object_position_phrases` (its docstring states the rule).
    The result goes into ``phrase_tokens`` (keep the key in
    :class:`PackRRSISInputs`' ``meta_keys``); the text encoder
    (:class:`~mmrrsis.models.text_encoders.PhraseBertTextEncoder`) turns
    the positions into masks. An expression without a class word gets an
    empty object list (its object pass is fully masked, as in the
    reference); one without a spatial phrase gets ``position=None``
    (the reference then uses the whole expression).

    NLTK and its data are not downloaded: with the default
    ``lexicon=None`` the words are tagged by NLTK's averaged perceptron
    tagger and, with ``sentence_split=True``, split into sentences by
    Punkt first, as ``nltk.word_tokenize`` / ``nltk.pos_tag`` do; both
    read NLTK data the user installed (``python -m nltk.downloader
    punkt_tab averaged_perceptron_tagger_eng``) and a missing one raises
    :class:`NLTKResourceError` naming it when the transform is built. A
    ``lexicon`` (word -> Penn tag; others ``NN``) replaces the tagger,
    and ``sentence_split=False`` tokenizes the expression as one sentence
    (the same words unless it has a full stop inside): then no NLTK data is
    needed, as for the generated data (``lexicon='synthetic'``).

    Required Keys:

    - text (str)

    Added Keys:

    - phrase_tokens (dict): ``object`` (list[int]) and ``position``
      (list[int] or None), positions counted with ``[CLS]`` at 0

    Args:
        classes (str | Sequence[str]): Object class names, or
            ``'refsegrs'`` / ``'rrsisd'`` for the lists of FIANet's
            loaders. Defaults to ``'refsegrs'``.
        lexicon (str | dict, optional): Word -> tag table used instead of
            NLTK's tagger, or ``'synthetic'``. Defaults to None (NLTK's
            tagger).
        sentence_split (bool): Split sentences with Punkt before the word
            tokenizer. Defaults to True.
    """

    def __init__(self,
                 classes: Union[str, Sequence[str]] = 'refsegrs',
                 lexicon: Union[str, Dict[str, str], None] = None,
                 sentence_split: bool = True) -> None:
        if isinstance(classes, str):
            if classes not in OBJECT_CLASSES:
                raise ValueError(
                    f'classes="{classes}" is none of {sorted(OBJECT_CLASSES)}'
                    '; give a list of class names instead.')
            classes = OBJECT_CLASSES[classes]
        if isinstance(lexicon, str):
            if lexicon not in LEXICONS:
                raise ValueError(f'lexicon="{lexicon}" is none of '
                                 f'{sorted(LEXICONS)}; give a dict.')
            lexicon = LEXICONS[lexicon]
        self.classes = tuple(classes)
        self.lexicon = None if lexicon is None else dict(lexicon)
        self.sentence_split = sentence_split
        nltk = _import_nltk()
        self._tokenize = _nltk_tokenizer(sentence_split)
        if self.lexicon is None:
            self._tag = _nltk_tagger()
        else:
            table = self.lexicon
            self._tag = lambda words: [(w, table.get(w, 'NN')) for w in words]
        self._chunk = nltk.RegexpParser(SPATIAL_GRAMMAR).parse

    def transform(self, results: dict) -> dict:
        """Add ``phrase_tokens`` for ``results['text']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``phrase_tokens``.
        """
        text = results.get('text')
        if not isinstance(text, str):
            raise KeyError(f'{describe_sample(results)} has no text (str) '
                           'to split into object words and phrases')
        results['phrase_tokens'] = object_position_phrases(
            text, self.classes, self._tokenize, self._tag, self._chunk)
        return results

    def __repr__(self) -> str:
        lexicon = None if self.lexicon is None else f'<{len(self.lexicon)}>'
        return (f'{self.__class__.__name__}(classes={self.classes}, '
                f'lexicon={lexicon}, sentence_split={self.sentence_split})')

