"""Word vocabularies and GloVe vectors of the LSTM text encoder."""
import numpy as np
import pytest

from mmrrsis.models.text_encoders import (
    TINY_WORD_VOCAB_NAME,
    build_word_vocab,
    load_word_embeddings,
    load_word_vocab,
    tiny_word_vocab,
)
from mmrrsis.models.text_encoders.word_vocab import glove_table


def test_packaged_vocabulary_has_the_generated_words():
    words = load_word_vocab(TINY_WORD_VOCAB_NAME)
    assert words[:4] == ['<pad>', '<go>', '<eos>', '<unk>']
    assert words == tiny_word_vocab() and len(set(words)) == len(words)
    for word in ('light', '-', 'duty', 'vehicle', 'parking', 'marking'):
        assert word in words
    assert not any(w.startswith('##') for w in words)
    assert '[PAD]' not in words and '[UNK]' not in words


def test_vocabulary_file_errors_name_the_line(tmp_path):
    path = tmp_path / 'v.txt'
    path.write_text('<pad>\n<unk>\ncar\nroad\ncar\n')
    with pytest.raises(ValueError, match='line 5: "car" repeats line 3'):
        load_word_vocab(str(path))
    path.write_text('car\nroad\n')
    with pytest.raises(ValueError, match=r"lacks \['<pad>', '<unk>'\]"):
        load_word_vocab(str(path))
    with pytest.raises(FileNotFoundError, match='build_word_vocab.py'):
        load_word_vocab(str(tmp_path / 'missing.txt'))
    path.write_text('<pad>\r\n<unk>\r\ncar \r\n\r\n')
    assert load_word_vocab(str(path)) == ['<pad>', '<unk>', 'car']


def test_build_word_vocab_orders_by_count():
    words = build_word_vocab([['car', 'on', 'road'], ['car'], ['<unk>']],
                             min_count=1)
    assert words == ['<pad>', '<go>', '<eos>', '<unk>', 'car', 'on', 'road']
    assert build_word_vocab([['a', 'a', 'b']], min_count=2)[4:] == ['a']


def test_glove_vectors(tmp_path):
    glove = tmp_path / 'g.txt'
    glove.write_text('car 1 2\nnew york 3 4\nbad 1\n')
    table, covered = glove_table(str(glove), ['<pad>', 'car', 'new york'], 2)
    assert covered == 2 and table.shape == (3, 2)
    assert table[1].tolist() == [1, 2] and table[2].tolist() == [3, 4]
    with pytest.raises(ValueError, match='No word of the vocabulary'):
        load_word_embeddings(str(glove), ['<pad>', 'road'], 2)
    np.save(tmp_path / 'e.npy', np.ones((2, 3), np.float32))
    assert load_word_embeddings(str(tmp_path / 'e.npy'), ['a', 'b'],
                                3).shape == (2, 3)
