"""Word vocabularies and word embeddings of the LSTM text encoders.

The LSTM-based referring models (RRN, LSCM, CMPC) look words up in a
vocabulary file, one word a line (line k is id k), with the special words
``<pad>``, ``<go>``, ``<eos>`` and ``<unk>`` first, and initialise the
embedding table from GloVe vectors of those words. This module reads such
files:

- :func:`load_word_vocab`: a vocabulary file, or the packaged stand-in
  ``'mmrrsis-tiny-words'`` (the whole words of the packaged WordPiece
  vocabulary, for tests and the generated data);
- :func:`load_word_embeddings`: the embedding table of a vocabulary from a
  ``.npy`` array (one row per vocabulary line, as the reference's
  ``*_emb.npy``) or a GloVe text file (``word v1 ... vD`` a line; words it
  lacks get random vectors, as the reference's ``embedding_generate.py``);
- :func:`build_word_vocab`: a vocabulary from a set of expressions
  (``tools/dataset_converters/build_word_vocab.py``).
"""
import os.path as osp
from collections import Counter
from typing import Callable, Iterable, List, Optional

import numpy as np

from .tiny_vocab import SPECIAL_TOKENS, tiny_vocab

#: The special words of the reference vocabularies, in their order.
WORD_SPECIALS = ('<pad>', '<go>', '<eos>', '<unk>')
PAD_WORD = '<pad>'
UNK_WORD = '<unk>'
#: Keyword that selects the packaged word vocabulary.
TINY_WORD_VOCAB_NAME = 'mmrrsis-tiny-words'
#: Spread of the random vectors of words GloVe lacks (the reference's).
MISSING_WORD_STD = 0.6


def tiny_word_vocab() -> List[str]:
    """The packaged word vocabulary.

    The specials of :data:`WORD_SPECIALS`, then the single characters and
    whole words of :func:`~mmrrsis.models.text_encoders.tiny_vocab`
    (its ``[...]`` specials and ``##`` continuations left out): every word
    of the generated datasets' expressions and many of RefSegRS'.

    Returns:
        list[str]: The words in id order.
    """
    words = [
        t for t in tiny_vocab()
        if t not in SPECIAL_TOKENS and not t.startswith('##')
    ]
    return list(WORD_SPECIALS) + words


def load_word_vocab(vocab: str) -> List[str]:
    """Read a word vocabulary.

    Args:
        vocab (str): ``'mmrrsis-tiny-words'`` or a text file with one word
            a line (line k is id k; trailing whitespace is dropped).

    Returns:
        list[str]: The words in id order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file is empty, repeats a word or lacks ``<pad>``
            or ``<unk>`` (the message names the file and line).
    """
    if vocab == TINY_WORD_VOCAB_NAME:
        return tiny_word_vocab()
    if not isinstance(vocab, str) or not osp.isfile(vocab):
        raise FileNotFoundError(
            f'Word vocabulary {vocab!r} not found: give a file with one word '
            f'a line ({", ".join(WORD_SPECIALS)} first), e.g. written by '
            'python tools/dataset_converters/build_word_vocab.py CONFIG, or '
            f'"{TINY_WORD_VOCAB_NAME}" for the packaged stand-in.')
    with open(vocab, encoding='utf-8') as f:
        words = [line.rstrip('\r\n').rstrip() for line in f]
    while words and not words[-1]:
        words.pop()
    if not words:
        raise ValueError(f'Word vocabulary {vocab} is empty.')
    seen = {}
    for line, word in enumerate(words, 1):
        if word in seen:
            raise ValueError(
                f'Word vocabulary {vocab}, line {line}: "{word}" repeats '
                f'line {seen[word]}; every word must be on one line only.')
        seen[word] = line
    missing = [w for w in (PAD_WORD, UNK_WORD) if w not in seen]
    if missing:
        raise ValueError(
            f'Word vocabulary {vocab} lacks {missing}: the encoder pads with '
            f'{PAD_WORD} and maps unknown words to {UNK_WORD}.')
    return words


def load_word_embeddings(path: str,
                         words: List[str],
                         dims: int,
                         seed: int = 0) -> np.ndarray:
    """The embedding table of a vocabulary.

    Args:
        path (str): A ``.npy`` array of shape (len(words), dims), row k the
            vector of word k; or a GloVe text file (``word v1 ... v_dims`` a
            line), read once and matched to the vocabulary.
        words (list[str]): The vocabulary, in id order.
        dims (int): Embedding width.
        seed (int): Seed of the random vectors of words the GloVe file
            lacks (normal, std :data:`MISSING_WORD_STD`, as the reference).
            Defaults to 0.

    Returns:
        np.ndarray: (len(words), dims) float32.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The array or the file's vectors have the wrong shape.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'Word embeddings {path!r} not found: give a .npy array '
            f'(vocabulary size x {dims}) or a GloVe text file, e.g. '
            'glove.840B.300d.txt (python tools/dataset_converters/'
            'build_word_vocab.py CONFIG --glove FILE writes the .npy), or '
            'embeddings=None for random vectors.')
    if path.endswith('.npy'):
        table = np.load(path, allow_pickle=False)
        if table.shape != (len(words), dims):
            raise ValueError(
                f'Word embeddings {path} have shape {table.shape}; the '
                f'vocabulary has {len(words)} words and the encoder '
                f'embed_dims={dims}: ({len(words)}, {dims}) expected.')
        return table.astype(np.float32)
    index = {w: i for i, w in enumerate(words)}
    table = np.random.default_rng(seed).normal(
        0., MISSING_WORD_STD, (len(words), dims)).astype(np.float32)
    found = np.zeros(len(words), dtype=bool)
    with open(path, encoding='utf-8', errors='replace') as f:
        for line_no, line in enumerate(f, 1):
            parts = line.rstrip().split(' ')
            if len(parts) <= dims:
                continue
            # a few GloVe "words" hold spaces: the vector is the tail
            word = ' '.join(parts[:-dims])
            i = index.get(word)
            if i is None or found[i]:
                continue
            try:
                table[i] = np.asarray(parts[-dims:], dtype=np.float32)
            except ValueError:
                raise ValueError(f'{path}, line {line_no}: the vector of '
                                 f'"{word}" is not {dims} numbers.') from None
            found[i] = True
    if not found.any():
        raise ValueError(
            f'No word of the vocabulary has a vector in {path}: is it a '
            f'GloVe text file of {dims}-d vectors?')
    return table


def build_word_vocab(texts: Iterable[str],
                     split: Callable[[str], List[str]],
                     min_count: int = 1,
                     max_words: Optional[int] = None) -> List[str]:
    """A vocabulary of the words of some expressions.

    Args:
        texts (Iterable[str]): The expressions.
        split (callable): Text -> words (the encoder's rule).
        min_count (int): Keep words seen at least this often. Defaults to
            1.
        max_words (int, optional): Keep at most this many words (the most
            frequent). Defaults to None (all).

    Returns:
        list[str]: :data:`WORD_SPECIALS`, then the words by decreasing
        count (ties alphabetical).
    """
    counts = Counter(w for text in texts for w in split(text))
    for special in WORD_SPECIALS:
        counts.pop(special, None)
    ranked = sorted((w for w, c in counts.items() if c >= min_count),
                    key=lambda w: (-counts[w], w))
    if max_words is not None:
        ranked = ranked[:max_words]
    return list(WORD_SPECIALS) + ranked


__all__ = [
    'WORD_SPECIALS', 'PAD_WORD', 'UNK_WORD', 'TINY_WORD_VOCAB_NAME',
    'tiny_word_vocab', 'load_word_vocab', 'load_word_embeddings',
    'build_word_vocab'
]
