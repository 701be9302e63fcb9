"""LSTMTextEncoder: word vocabulary + embeddings + LSTM (LSCM, CMPC+)."""
import numpy as np
import pytest
import torch

from mmrrsis.models.text_encoders import LSTMTextEncoder
from mmrrsis.models.text_encoders.lstm_text_encoder import (
    TokenizerUnavailableError,
)
from mmrrsis.models.utils import TextFeatures

WORDS = ['<pad>', '<go>', '<eos>', '<unk>', 'the', 'car', 'on', 'road',
         'white', 'light', '-', 'duty', 'vehicle', 'building', 'along']


@pytest.fixture
def vocab(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text('\n'.join(WORDS) + '\n')
    return str(path)


def _encoder(vocab, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('embed_dims', 6)
    kwargs.setdefault('hidden_dims', 5)
    return LSTMTextEncoder(vocab=vocab, **kwargs).eval()


def _parse(text, tokens, heads):
    return dict(text=text, tokens=tokens, heads=heads)


def test_words_mask_and_sentences(vocab):
    enc = _encoder(vocab, sentence='last')
    texts = ['Light-duty vehicle on the road.', 'car']
    ids, lengths, graph = enc.tokenize(texts)
    assert graph is None
    assert lengths.tolist() == [7, 1]
    assert ids[0].tolist() == [9, 10, 11, 12, 6, 4, 7]
    assert ids[1].tolist() == [5] + [0] * 6  # <pad> after the words
    out = enc(texts)
    assert isinstance(out, TextFeatures) and enc.out_channels == 5
    assert out.words.shape == (2, 7, 5) and out.mask.tolist()[1] == [1] + \
        [0] * 6
    assert (out.words[1, 1:] == 0).all()
    # 'last': the last word's output, the same as the expression alone
    torch.testing.assert_close(out.sentence[0], out.words[0, 6])
    alone = enc(['car'])
    torch.testing.assert_close(out.words[1, :1], alone.words[0])
    torch.testing.assert_close(out.sentence[1], alone.sentence[0])
    top = _encoder(vocab, sentence='max')(texts)
    torch.testing.assert_close(top.sentence[0], top.words[0].amax(0))
    torch.testing.assert_close(top.sentence[1], top.words[1, 0])
    assert _encoder(vocab, sentence=None)(texts).sentence is None


def test_unknown_and_cut_expressions_are_counted(vocab):
    enc = _encoder(vocab, max_tokens=3)
    ids, lengths, _ = enc.tokenize(['zebra crossing', 'the car on the road',
                                    '.'])
    assert ids[0, :2].tolist() == [3, 3] and lengths.tolist() == [2, 3, 1]
    assert enc.expression_log.counts == dict(
        seen=3, unknown_only=1, truncated=1, empty=1)


def test_parse_tokens_and_word_graph(vocab):
    enc = _encoder(vocab, use_parse=True, non_edge_weight=0.1)
    assert enc.meta_keys == ('parse', )
    texts = ['car on the road', 'car']
    parses = [_parse(texts[0], ['car', 'on', 'the', 'road'], [0, 0, 3, 1]),
              _parse('car', ['car'], [0])]
    out = enc(texts, parse=parses)
    expected = torch.full((4, 4), 0.1)
    for a, b in ((0, 1), (1, 3), (2, 3)):
        expected[a, b] = expected[b, a] = 1.
    torch.testing.assert_close(out.graph[0], expected)
    assert out.graph[1, 0, 0] == pytest.approx(0.1)
    assert out.graph[1].sum() == pytest.approx(0.1)  # padding: 0
    torch.testing.assert_close(
        out.rows(slice(1, 2)).graph, out.graph[1:2])


def test_parse_errors_name_the_expression_and_the_fix(vocab):
    enc = _encoder(vocab, use_parse=True)
    with pytest.raises(ValueError, match=r'"car"\) has no dependency parse.*'
                       'LoadExpressionParse.*parse_expressions.py'):
        enc(['car'], parse=[None])
    with pytest.raises(ValueError, match='made for "car on the road" but '
                       'its expression is now "car on the left"'):
        enc(['car on the left'],
            parse=[_parse('car on the road', ['car'], [0])])


def test_reference_initialisation(vocab):
    enc = _encoder(vocab, hidden_dims=8, forget_bias=1.0)
    bias = enc.lstm.bias_ih_l0
    assert (bias[8:16] == 1).all() and (bias[:8] == 0).all()
    assert (enc.lstm.bias_hh_l0 == 0).all()
    limit = (6 / (6 + 8 + 32))**0.5
    assert enc.lstm.weight_ih_l0.abs().max() <= limit
    assert 0.4 < enc.embedding.weight.std() < 0.8  # N(0, 0.6)


def test_glove_vectors_are_read_before_training_only(vocab, tmp_path):
    glove = tmp_path / 'glove.txt'
    glove.write_text('car 1 2 3 4 5 6\nroad 0 0 0 0 0 1\nzzz 9 9 9 9 9 9\n')
    enc = _encoder(vocab, embeddings=str(glove))
    before = enc.embedding.weight[5].clone()
    assert not torch.equal(before, torch.arange(1., 7.))
    enc.init_weights()
    assert enc.embedding.weight[5].tolist() == [1, 2, 3, 4, 5, 6]
    assert enc.embedding.weight[7].tolist() == [0, 0, 0, 0, 0, 1]
    table = np.arange(len(WORDS) * 6, dtype=np.float32).reshape(-1, 6)
    np.save(tmp_path / 'emb.npy', table)
    enc = _encoder(vocab, embeddings=str(tmp_path / 'emb.npy'),
                   freeze_embeddings=True)
    enc.init_weights()
    assert torch.equal(enc.embedding.weight.detach(), torch.from_numpy(table))
    assert not enc.embedding.weight.requires_grad
    np.save(tmp_path / 'bad.npy', table[:3])
    with pytest.raises(ValueError, match=r'shape \(3, 6\).*\(15, 6\)'):
        _encoder(vocab, embeddings=str(tmp_path / 'bad.npy')).init_weights()


def test_offline_cfg_and_tokenizer(vocab, tmp_path):
    cfg = dict(type='LSTMTextEncoder', vocab=vocab, embeddings='x.npy',
               use_parse=True)
    assert LSTMTextEncoder.offline_cfg(cfg, 'checkpoint') == dict(
        cfg, embeddings=None)
    missing = dict(cfg, vocab=str(tmp_path / 'none.txt'), vocab_size=3000)
    with pytest.raises(TokenizerUnavailableError,
                       match='model.text_encoder.vocab'):
        LSTMTextEncoder.offline_cfg(missing, 'checkpoint')
    stand_in = LSTMTextEncoder.offline_cfg(missing, 'random')
    assert stand_in['vocab'] == 'mmrrsis-tiny-words'
    assert stand_in['vocab_size'] == 3000 and stand_in['embeddings'] is None
    built = LSTMTextEncoder(**{k: v for k, v in stand_in.items()
                               if k != 'type'},
                            embed_dims=4, hidden_dims=4)
    assert built.embedding.num_embeddings == 3000
    tokenizer = LSTMTextEncoder.build_tokenizer(dict(cfg, max_tokens=30))
    assert tokenizer.encode('the white car, zebra') == [4, 8, 5, 3, 3]
    assert (tokenizer.max_tokens, tokenizer.unk_id) == (30, 3)
    assert 'parse' in tokenizer.description
    with pytest.raises(TokenizerUnavailableError):
        LSTMTextEncoder.build_tokenizer(missing)
    with pytest.raises(ValueError, match='vocab_size=3 is smaller'):
        LSTMTextEncoder(vocab=vocab, vocab_size=3)
