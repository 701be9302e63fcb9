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
- :func:`build_word_vocab`: a vocabulary from a set of expressions, and
  :func:`write_config_vocab`: the vocabulary (and GloVe vectors) of a
  config's datasets, where its text encoder reads them
  (``tools/dataset_converters/build_word_vocab.py``).
"""
import os
import os.path as osp
from collections import Counter
from typing import Iterable, List, Optional, Tuple

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
    return glove_table(path, words, dims, seed)[0]


def glove_table(path: str,
                words: List[str],
                dims: int,
                seed: int = 0) -> Tuple[np.ndarray, int]:
    """The vectors of ``words`` in a GloVe text file.

    Args:
        path (str): ``word v1 ... v_dims`` a line.
        words (list[str]): The vocabulary.
        dims (int): Vector width.
        seed (int): Seed of the random vectors of missing words (normal,
            std :data:`MISSING_WORD_STD`). Defaults to 0.

    Returns:
        tuple[np.ndarray, int]: (len(words), dims) float32 and how many
        words the file has.
    """
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
    return table, int(found.sum())


def build_word_vocab(word_lists: Iterable[List[str]],
                     min_count: int = 1,
                     max_words: Optional[int] = None) -> List[str]:
    """A vocabulary of the words of some expressions.

    Args:
        word_lists (Iterable[list[str]]): The expressions' words (the
            encoder's split).
        min_count (int): Keep words seen at least this often. Defaults to
            1.
        max_words (int, optional): Keep at most this many words (the most
            frequent). Defaults to None (all).

    Returns:
        list[str]: :data:`WORD_SPECIALS`, then the words by decreasing
        count (ties alphabetical).
    """
    counts = Counter(w for words in word_lists for w in words)
    for special in WORD_SPECIALS:
        counts.pop(special, None)
    ranked = sorted((w for w, c in counts.items() if c >= min_count),
                    key=lambda w: (-counts[w], w))
    if max_words is not None:
        ranked = ranked[:max_words]
    return list(WORD_SPECIALS) + ranked


def write_config_vocab(cfg,
                       loaders: Iterable[str] = ('train_dataloader', ),
                       glove: Optional[str] = None,
                       min_count: int = 1,
                       vocab_out: Optional[str] = None,
                       embeddings_out: Optional[str] = None) -> dict:
    """Write the word vocabulary of a config's expressions (and their GloVe
    vectors) where its ``LSTMTextEncoder`` reads them.

    The words are the encoder's: the expressions split by
    :func:`~mmrrsis.datasets.text_utils.split_words` and, when the config
    reads parse caches that exist, their tokens (lower-cased).

    Args:
        cfg (Config | dict): The full config.
        loaders (Iterable[str]): Dataloaders whose expressions count.
            Defaults to the training one.
        glove (str, optional): A GloVe text file; its vectors of the words
            are saved as a ``.npy``. Defaults to None.
        min_count (int): Keep words seen this often. Defaults to 1.
        vocab_out (str, optional): Defaults to the encoder's ``vocab``.
        embeddings_out (str, optional): Defaults to the encoder's
            ``embeddings``.

    Returns:
        dict: ``vocab`` (path), ``words`` (count), ``embeddings`` (path
        or None), ``covered`` (words with a GloVe vector, or None).
    """
    from mmrrsis.datasets.expression_parse import (
        iter_config_expressions,
        parse_files_of_config,
        read_parse_file,
    )
    from mmrrsis.datasets.text_utils import split_words
    text_cfg = (cfg.get('model') or {}).get('text_encoder') or {}
    vocab_out = vocab_out or text_cfg.get('vocab')
    if not vocab_out or vocab_out == TINY_WORD_VOCAB_NAME:
        raise ValueError(
            'Where should the vocabulary go? The config\'s '
            'model.text_encoder.vocab is not a file path; give --vocab-out.')
    texts = list(iter_config_expressions(cfg, loaders))
    token_lists = [split_words(t) for t in texts]
    for _, path in parse_files_of_config(cfg):
        if osp.isfile(path):
            token_lists += [[str(w).lower() for w in p['tokens']]
                            for p in read_parse_file(path).values()]
    words = build_word_vocab(token_lists, min_count)
    os.makedirs(osp.dirname(osp.abspath(vocab_out)), exist_ok=True)
    with open(vocab_out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(words) + '\n')
    result = dict(vocab=vocab_out, words=len(words), embeddings=None,
                  covered=None)
    if glove is not None:
        embeddings_out = embeddings_out or text_cfg.get('embeddings')
        if not embeddings_out or not embeddings_out.endswith('.npy'):
            raise ValueError(
                'Where should the GloVe vectors go? Give --embeddings-out '
                'FILE.npy (the config\'s model.text_encoder.embeddings is '
                f'{embeddings_out!r}).')
        dims = int(text_cfg.get('embed_dims', 300))
        table, covered = glove_table(glove, words, dims)
        np.save(embeddings_out, table)
        result.update(embeddings=embeddings_out, covered=covered)
    return result


__all__ = [
    'write_config_vocab', 'WORD_SPECIALS', 'PAD_WORD', 'UNK_WORD',
    'TINY_WORD_VOCAB_NAME', 'tiny_word_vocab', 'load_word_vocab',
    'load_word_embeddings', 'glove_table', 'build_word_vocab'
]
