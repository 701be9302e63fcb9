import pytest
import torch
from torch import nn

from mmrrsis.models.utils import (
    TextConditioned,
    TextFeatures,
    pool_words,
    takes_text,
)


def record():
    words = torch.arange(2 * 4 * 3, dtype=torch.float).reshape(2, 4, 3)
    mask = torch.tensor([[1., 1., 0., 0.], [1., 1., 1., 1.]])
    return TextFeatures(words, mask)


def test_pooling_rules():
    text = record()
    assert text.sentence is None
    masked = text.pool()  # masked mean by default
    torch.testing.assert_close(masked[0], text.words[0, :2].mean(0))
    torch.testing.assert_close(masked[1], text.words[1].mean(0))
    plain = text.pool('mean')  # padding included
    torch.testing.assert_close(plain, text.words.mean(1))
    assert not torch.allclose(plain[0], masked[0])
    torch.testing.assert_close(pool_words(text.words, text.mask), masked)
    # an all-padding row gives zeros, not NaN
    empty = pool_words(text.words, torch.zeros(2, 4))
    assert torch.equal(empty, torch.zeros(2, 3))
    with pytest.raises(ValueError, match='pooling'):
        text.pool('max')
    with pytest.raises(ValueError, match='sentence vector'):
        text.pool('encoder')
    given = text._replace(sentence=torch.ones(2, 3))
    assert given.pool('encoder') is given.sentence


def test_marker():

    class Reads(nn.Module, TextConditioned):
        pass

    assert takes_text(Reads())
    assert not takes_text(nn.Conv2d(1, 1, 1))


def test_rows_select_expressions():
    text = record()
    second = text.rows(slice(1, 2))
    assert second.words.shape == (1, 4, 3) and second.sentence is None
    assert torch.equal(second.mask, text.mask[1:])
    given = text._replace(sentence=torch.arange(6.).reshape(2, 3))
    assert torch.equal(given.rows([1]).sentence, given.sentence[[1]])
