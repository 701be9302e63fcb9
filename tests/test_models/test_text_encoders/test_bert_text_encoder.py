import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizer

from mmrrsis.models.text_encoders import (
    TINY_VOCAB_NAME,
    BaseTextEncoder,
    BertTextEncoder,
    tiny_vocab,
)
from mmrrsis.models.utils import TextFeatures, pool_words

TINY_BERT = dict(
    vocab_size=512,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=64)


def tiny_encoder(**kwargs):
    kwargs.setdefault('bert_config', TINY_BERT)
    kwargs.setdefault('vocab', TINY_VOCAB_NAME)
    torch.manual_seed(0)
    return BertTextEncoder(pretrained=None, **kwargs)


def test_tiny_vocab_is_own_word_list():
    vocab = tiny_vocab()
    assert vocab[:5] == ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    assert len(vocab) == len(set(vocab)) < TINY_BERT['vocab_size']
    for word in ('car', 'road', 'building', 'vehicle', '##s', 'a', '7'):
        assert word in vocab


def test_features_mask_and_padding_policies():
    encoder = tiny_encoder().eval()
    assert isinstance(encoder, BaseTextEncoder)
    texts = ['a car', 'the red building on the left of the road']
    out = encoder(texts)
    assert isinstance(out, TextFeatures) and out.sentence is None
    feats, mask = out.words, out.mask
    assert feats.shape == (2, 20, 32) and mask.shape == (2, 20)
    assert mask.dtype == feats.dtype
    assert encoder.out_channels == 32
    # [CLS] a car [SEP]
    assert mask[0].tolist() == [1.] * 4 + [0.] * 16
    assert mask[1].sum() == 11
    ids, _ = encoder.tokenize(texts)
    assert ids[0, 0] == encoder.tokenizer.cls_token_id
    assert ids[0, 3] == encoder.tokenizer.sep_token_id

    longest = tiny_encoder(padding='longest').eval()
    feats_l, mask_l, _ = longest(texts)
    assert feats_l.shape == (2, 11, 32)
    torch.testing.assert_close(feats_l[1], feats[1, :11])
    # one expression as a plain str
    assert encoder('a car').words.shape == (1, 20, 32)


def test_special_tokens_marked():
    """TextFeatures.special: True at [CLS] and [SEP] only (DiCoR's guide
    weighs the other real tokens); rows() keeps it."""
    encoder = tiny_encoder().eval()
    out = encoder(['a car', 'the red building'])
    assert out.special.dtype == torch.bool and out.special.shape == (2, 20)
    assert out.special[0].nonzero().flatten().tolist() == [0, 3]
    assert out.special[1].nonzero().flatten().tolist() == [0, 4]
    assert torch.equal(out.rows(slice(1, 2)).special, out.special[1:])
    # a record built from hidden states alone does not claim any
    assert encoder.features(out.words, out.mask).special is None


LONG = 'one two three four five six seven eight'


def test_truncation_keeps_max_tokens():
    encoder = tiny_encoder(max_tokens=6).eval()
    mask = encoder([LONG]).mask
    assert mask.shape == (1, 6) and mask.sum() == 6


def _published_ids(vocab_file, text, max_tokens, keep_sep):
    """The ids as the reference loaders build them (HF's slow tokenizer,
    special tokens added, then cut to max_tokens), or HF's own
    truncation, which keeps [SEP]."""
    tokenizer = BertTokenizer(vocab_file=str(vocab_file))
    if keep_sep:
        return tokenizer.encode(text, truncation=True, max_length=max_tokens)
    return tokenizer.encode(text, add_special_tokens=True)[:max_tokens]


@pytest.mark.parametrize('truncation', ['keep_sep', 'reference'])
def test_truncation_rules(truncation, tmp_path):
    vocab_file = tmp_path / 'vocab.txt'
    vocab_file.write_text('\n'.join(tiny_vocab()) + '\n')
    encoder = tiny_encoder(
        vocab=str(vocab_file), max_tokens=6, truncation=truncation)
    ids, mask = encoder.tokenize([LONG, 'a car'])
    expected = _published_ids(vocab_file, LONG, 6,
                              truncation == 'keep_sep')
    assert ids[0].tolist() == expected and mask[0].sum() == 6
    sep = encoder.tokenizer.sep_token_id
    if truncation == 'keep_sep':
        assert ids[0, -1] == sep
    else:
        assert sep not in ids[0].tolist()
        assert encoder.tokenizer.convert_ids_to_tokens(ids[0, 1:]) == [
            'one', 'two', 'three', 'four', 'five'
        ]
    # expressions that fit: the same ids under both rules
    assert ids[1].tolist()[:4] == _published_ids(vocab_file, 'a car', 6,
                                                 False)
    assert mask[1].tolist() == [1, 1, 1, 1, 0, 0]


def test_truncated_and_unknown_expressions_are_said_with_counts(
        monkeypatch):
    from mmrrsis.models.text_encoders import base_text_encoder
    messages = []
    monkeypatch.setattr(base_text_encoder, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    encoder = tiny_encoder(max_tokens=6).eval()
    for _ in range(25):  # 25 batches of 2, one long expression each
        encoder([LONG, 'a car'])
    assert encoder.text_stats == dict(seen=50, truncated=25)
    # the first case with the expression, then the counts at 10 (not 25
    # lines): said once, and the running count
    assert len(messages) == 2
    assert LONG in messages[0] and 'max_tokens=6' in messages[0]
    assert messages[1].endswith('10 of 20 expressions so far were cut to '
                                'max_tokens=6 ([SEP] kept)')
    messages.clear()
    # text in a script the (English) vocabulary does not cover
    encoder(['停在路边的白色汽车', 'a car'])
    assert encoder.text_stats['unknown_only'] == 1
    assert len(messages) == 1 and '[UNK]' in messages[0]
    assert '停在路边的白色汽车' in messages[0]
    encoder(['', 'car'])  # empty: no pieces, nothing unknown
    assert encoder.text_stats['unknown_only'] == 1


def test_sentence_vector_options():
    texts = ['a car', 'the red building on the left of the road']
    plain = tiny_encoder().eval()(texts)
    for option, expected in [
        ('masked_mean', pool_words(plain.words, plain.mask)),
        ('mean', plain.words.mean(1)),
        ('cls', plain.words[:, 0]),
    ]:
        out = tiny_encoder(sentence=option).eval()(texts)
        torch.testing.assert_close(out.sentence, expected)
        torch.testing.assert_close(out.pool('encoder'), expected)
    with pytest.raises(ValueError, match='sentence vector'):
        plain.pool('encoder')
    with pytest.raises(ValueError, match='sentence'):
        tiny_encoder(sentence='pooler')


def test_padded_ids_do_not_change_real_word_features():
    encoder = tiny_encoder().eval()
    ids, attn = encoder.tokenize(['a car on the road'])
    feats = encoder.encode(ids, attn).words
    noisy = ids.clone()
    noisy[attn == 0] = torch.randint(5, 400, (int((attn == 0).sum()), ))
    feats2 = encoder.encode(noisy, attn).words
    real = attn[0].bool()
    torch.testing.assert_close(feats2[0, real], feats[0, real])


def test_user_vocab_file_matches_slow_tokenizer(tmp_path):
    words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'car', 'road',
             'red', 'on', 'the', 'c', 'a', 'r', '##s']
    vocab_file = tmp_path / 'vocab.txt'
    vocab_file.write_text('\n'.join(words) + '\n')
    encoder = tiny_encoder(vocab=str(vocab_file))
    text = ['The red cars on the ROAD']
    ids, mask = encoder.tokenize(text)
    slow = BertTokenizer(vocab_file=str(vocab_file))(
        text, padding='max_length', max_length=20, return_tensors='pt')
    assert ids.tolist() == slow['input_ids'].tolist()
    assert mask.tolist() == slow['attention_mask'].tolist()
    assert encoder.tokenizer.convert_ids_to_tokens(ids[0, :7]) == [
        '[CLS]', 'the', 'red', 'car', '##s', 'on', 'the'
    ]


def test_pretrained_folder_loads_offline_and_survives_init(tmp_path):
    torch.manual_seed(1)
    bert = BertModel(BertConfig(**TINY_BERT))
    bert.save_pretrained(tmp_path)
    (tmp_path / 'vocab.txt').write_text('\n'.join(tiny_vocab()) + '\n')
    encoder = BertTextEncoder(pretrained=str(tmp_path)).eval()
    assert not hasattr(encoder.bert, 'pooler') or encoder.bert.pooler is None
    encoder.init_weights()  # must not re-initialise BERT
    for name, param in encoder.bert.named_parameters():
        torch.testing.assert_close(param, bert.state_dict()[name])
    ids, attn = encoder.tokenize(['a car'])
    expected = bert.eval()(input_ids=ids, attention_mask=attn)[0]
    torch.testing.assert_close(encoder(['a car']).words, expected)


def test_freezing_options_and_gradients():
    encoder = tiny_encoder(freeze_embeddings=True, frozen_layers=[-1])
    assert encoder.frozen_layers == [1]
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    assert trainable and all(
        n.startswith('bert.encoder.layer.0.') for n in trainable)
    feats, mask, _ = encoder(['a car', 'the road'])
    (feats * mask[..., None]).sum().backward()
    for name, param in encoder.named_parameters():
        if name in trainable:
            assert param.grad is not None and param.grad.abs().sum() > 0
        else:
            assert param.grad is None, name

    first = tiny_encoder(frozen_layers=1)
    assert first.frozen_layers == [0]
    assert not any(p.requires_grad
                   for p in first.bert.encoder.layer[0].parameters())
    assert all(p.requires_grad
               for p in first.bert.encoder.layer[1].parameters())

    frozen = tiny_encoder(freeze=True)
    assert not any(p.requires_grad for p in frozen.parameters())


def test_eval_mode_disables_bert_dropout():
    encoder = tiny_encoder(eval_mode=True)
    encoder.train()
    assert encoder.training and not encoder.bert.training
    torch.testing.assert_close(encoder(['a car']).words,
                               encoder(['a car']).words)
    dropping = tiny_encoder().train()
    assert dropping.bert.training


def test_invalid_settings_raise(tmp_path):
    with pytest.raises(ValueError, match='vocab_size'):
        tiny_encoder(bert_config=dict(TINY_BERT, vocab_size=100))
    with pytest.raises(ValueError, match='max_position_embeddings'):
        tiny_encoder(max_tokens=100)
    with pytest.raises(ValueError, match='padding'):
        tiny_encoder(padding='do_not_pad')
    with pytest.raises(ValueError, match='truncation'):
        tiny_encoder(truncation='right')
    with pytest.raises(ValueError, match='CLS'):
        tiny_encoder(max_tokens=1)
    with pytest.raises(FileNotFoundError):
        tiny_encoder(vocab=str(tmp_path / 'missing.txt'))
    with pytest.raises(ValueError):
        BertTextEncoder(pretrained=None, vocab=TINY_VOCAB_NAME)
