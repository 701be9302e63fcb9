"""PhraseBertTextEncoder: three BERT passes on the same ids; the masked
scores are FIANet's -1e4, so an empty object mask attends as if unmasked."""
import pytest
import torch

from mmrrsis.models.text_encoders import BertTextEncoder, PhraseBertTextEncoder

TINY = dict(
    pretrained=None,
    bert_config=dict(
        vocab_size=512,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64),
    vocab='mmrrsis-tiny')
TEXTS = ['vehicle driving on the road', 'a small shape near the corner']
PHRASES = [
    dict(object=[1, 5], position=[3, 4, 5]),
    dict(object=[], position=None),
]


@pytest.fixture
def encoder():
    torch.manual_seed(0)
    return PhraseBertTextEncoder(**TINY).eval()


def test_three_passes(encoder):
    text = encoder(TEXTS, phrase_tokens=PHRASES)
    plain = BertTextEncoder(**TINY).eval()
    plain.load_state_dict(encoder.state_dict())
    whole = plain(TEXTS)
    # the whole expression: BertTextEncoder's features and mask
    torch.testing.assert_close(text.words, whole.words)
    assert torch.equal(text.mask, whole.mask)
    obj, pos = text.phrases['object'], text.phrases['position']
    assert obj.words.shape == pos.words.shape == text.words.shape == (2, 20,
                                                                      32)
    assert obj.mask[0].nonzero().flatten().tolist() == [1, 5]
    assert pos.mask[0].nonzero().flatten().tolist() == [3, 4, 5]
    # no spatial phrase: the position pass is the whole expression's
    assert torch.equal(pos.mask[1], text.mask[1])
    torch.testing.assert_close(pos.words[1], text.words[1])
    # an object pass attends to the object words only
    ids, attn = encoder.tokenize(TEXTS[:1])
    alone = encoder.bert(
        input_ids=ids, attention_mask=obj.mask[:1].long()).last_hidden_state
    torch.testing.assert_close(obj.words[:1, [1, 5]], alone[:, [1, 5]])
    # the record's rows keep the phrases
    row = text.rows(slice(1, 2))
    assert torch.equal(row.phrases['object'].mask, obj.mask[1:])


def test_empty_object_mask_is_the_references(encoder):
    """-1e4 on every score leaves the softmax unmasked: the row is BERT on
    all 20 ids; HuggingFace's own mask (the dtype's minimum) would give
    uniform attention, other features."""
    with torch.no_grad():  # peaked attention (a random BERT is near uniform)
        for layer in encoder.bert.encoder.layer:
            layer.attention.self.query.weight.mul_(30)
            layer.attention.self.key.weight.mul_(30)
    text = encoder(TEXTS, phrase_tokens=PHRASES)
    ids, _ = encoder.tokenize(TEXTS)
    unmasked = encoder.bert(input_ids=ids[1:]).last_hidden_state
    got = text.phrases['object'].words[1:]
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, unmasked, atol=1e-5, rtol=1e-5)
    hf = encoder.bert(
        input_ids=ids[1:], attention_mask=torch.zeros_like(ids[1:]))
    assert (hf.last_hidden_state - got).abs().max() > 1e-2


def test_positions_past_the_padding_are_dropped(encoder):
    text = encoder(TEXTS[:1], phrase_tokens=[dict(object=[2, 19, 25],
                                                  position=[0])])
    assert text.phrases['object'].mask[0].nonzero().flatten().tolist() == [
        2, 19
    ]
    assert text.phrases['position'].mask[0].tolist()[:2] == [1., 0.]


def test_missing_phrase_tokens_name_the_transform(encoder):
    with pytest.raises(ValueError, match='ObjectPositionPhrases'):
        encoder(TEXTS)
    with pytest.raises(ValueError, match='"a small shape'):
        encoder(TEXTS, phrase_tokens=[PHRASES[0], None])
    with pytest.raises(ValueError, match='2 expressions but 1'):
        encoder(TEXTS, phrase_tokens=PHRASES[:1])
    assert PhraseBertTextEncoder.meta_keys == ('phrase_tokens', )


def test_segmentor_passes_the_samples_metainfo(helpers):
    cfg = helpers.leaf_model_cfg('tiny/fianet_swin-tiny_refsegrs-64x64.py')
    model = helpers.build_model(cfg).eval()
    samples = helpers.make_samples(TEXTS, with_gt=False)
    for sample, phrases in zip(samples, PHRASES):
        sample.set_metainfo(dict(phrase_tokens=phrases))
    text = model.encode_text(TEXTS, samples)
    assert text.phrases['object'].mask[0].sum() == 2
    with pytest.raises(ValueError, match='phrase_tokens'):
        model.encode_text(TEXTS)
