"""SiglipTextEncoder: a tiny random SigLIP text tower from transformers
with tokenizers written by the test (a SentencePiece-style one, a
word-level one like SigLIP 2's, or the packaged stand-in), the features
it returns, LoRA, pretrained weights and its offline setup (C1); nothing
is downloaded."""
import string

import pytest
import torch

from mmrrsis.models.text_encoders import (
    BaseTextEncoder,
    SiglipTextEncoder,
    TokenizerUnavailableError,
    stand_in_tokenizer,
)
from mmrrsis.models.utils import TextFeatures

WORDS = ('a the car red building on left of road long truck near bridge '
         'white van parked next to small bus tree')
TINY_SIGLIP = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    max_position_embeddings=64,
    pad_token_id=0,
    eos_token_id=1)


def write_sentencepiece_tokenizer(folder: str) -> str:
    """A Unigram (SentencePiece-style, ``▁`` word starts) tokenizer with
    SigLIP's habits (``</s>`` after each expression, ``<pad>`` id 0),
    saved the HuggingFace way."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    pieces = [('<pad>', 0.), ('</s>', 0.), ('<unk>', 0.)]
    pieces += [('\u2581' + w, -1.) for w in sorted(set(WORDS.split()))]
    pieces += [(c, -5.) for c in string.ascii_lowercase]
    backend = Tokenizer(models.Unigram(pieces, unk_id=2))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    backend.post_processor = TemplateProcessing(
        single='$A </s>', special_tokens=[('</s>', 1)])
    PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token='<pad>',
        eos_token='</s>',
        unk_token='<unk>').save_pretrained(folder)
    return folder


@pytest.fixture(scope='module')
def tokenizer_dir(tmp_path_factory):
    return write_sentencepiece_tokenizer(
        str(tmp_path_factory.mktemp('siglip_tokenizer')))


def tiny_encoder(tokenizer_dir, **kwargs):
    torch.manual_seed(0)
    config = dict(TINY_SIGLIP, vocab_size=64)
    return SiglipTextEncoder(
        text_config=config, tokenizer=tokenizer_dir, **kwargs).eval()


def test_tokens_padding_and_mask(tokenizer_dir):
    encoder = tiny_encoder(tokenizer_dir, max_tokens=16)
    assert isinstance(encoder, BaseTextEncoder) and encoder.out_channels == 32
    ids, mask = encoder.tokenize(['a car', 'the red building on the left'])
    assert ids.shape == mask.shape == (2, 16)
    # '▁a ▁car </s>' then <pad>
    assert mask[0].tolist() == [1] * 3 + [0] * 13
    assert ids[0, 2] == 1 and (ids[0, 3:] == 0).all()
    assert mask[1].sum() == 7 and ids[1, 6] == 1
    longest = tiny_encoder(tokenizer_dir, padding='longest')
    ids_l, mask_l = longest.tokenize(['a car', 'the red building on the left'])
    assert ids_l.shape == (2, 7)
    assert torch.equal(ids_l, ids[:, :7])


def test_words_and_pooled_last_position(tokenizer_dir):
    encoder = tiny_encoder(tokenizer_dir)
    out = encoder(['a long truck near the bridge', 'a tree'])
    assert isinstance(out, TextFeatures)
    words, mask, sentence = out
    assert words.shape == (2, 64, 32) and mask.shape == (2, 64)
    assert mask.dtype == words.dtype
    # pooled: the last position (a pad here, as SigLIP was trained)
    head = encoder.siglip.head
    torch.testing.assert_close(sentence, head(words[:, -1]))
    assert sentence.shape == (2, 32)
    # without the attention mask the padding takes part: 'a tree' alone,
    # padded to 64, is what the batch gives for it
    alone = encoder('a tree')
    torch.testing.assert_close(alone.words[0], words[1])


def test_attention_mask_makes_padding_irrelevant(tokenizer_dir):
    masked = tiny_encoder(
        tokenizer_dir, padding='longest', use_attention_mask=True)
    short = masked(['a car'])
    batch = masked(['a car', 'the white van parked next to the small bus'])
    torch.testing.assert_close(batch.words[0, :3], short.words[0],
                               rtol=1e-5, atol=1e-5)
    assert batch.words.shape[1] > 3


def test_truncation_keeps_end_token_and_is_counted(tokenizer_dir):
    encoder = tiny_encoder(tokenizer_dir, max_tokens=8)
    text = 'the red car parked next to the long white truck on the road'
    ids, mask = encoder.tokenize([text, 'a car'])
    assert mask[0].sum() == 8 and ids[0, 7] == 1  # </s> kept
    assert encoder.expression_log.counts['truncated'] == 1
    assert 'unknown_only' not in encoder.expression_log.counts
    encoder.tokenize(['\u6771\u4eac'])
    assert encoder.expression_log.counts['unknown_only'] == 1


def test_lowercase_and_size_checks(tokenizer_dir):
    lower = tiny_encoder(tokenizer_dir, lowercase=True)
    plain = tiny_encoder(tokenizer_dir)
    assert torch.equal(lower.tokenize(['A CAR'])[0],
                       plain.tokenize(['a car'])[0])
    with pytest.raises(ValueError, match='max_position_embeddings'):
        tiny_encoder(tokenizer_dir, max_tokens=65)
    with pytest.raises(ValueError, match='text_config.vocab_size'):
        SiglipTextEncoder(
            text_config=dict(TINY_SIGLIP, vocab_size=8),
            tokenizer=tokenizer_dir)
    with pytest.raises(ValueError, match='pretrained` or `text_config'):
        SiglipTextEncoder(tokenizer=tokenizer_dir)


def test_pretrained_folder_and_offline_setup(tokenizer_dir, tmp_path):
    encoder = tiny_encoder(tokenizer_dir)
    folder = str(tmp_path / 'tiny-siglip')
    from transformers import SiglipTextModel
    saved = SiglipTextModel(encoder.siglip.config)
    saved.text_model.load_state_dict(encoder.siglip.state_dict())
    saved.save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    loaded = SiglipTextEncoder(pretrained=folder).eval()
    texts = ['a car on the road']
    torch.testing.assert_close(loaded(texts).words, encoder(texts).words)

    cfg = dict(type='SiglipTextEncoder', pretrained=folder)
    offline = SiglipTextEncoder.offline_cfg(cfg, 'checkpoint')
    assert cfg == dict(type='SiglipTextEncoder', pretrained=folder)
    assert offline['tokenizer'] == folder
    assert offline['text_config']['hidden_size'] == 32
    rebuilt = SiglipTextEncoder(**{
        k: v for k, v in offline.items() if k != 'type'})
    assert rebuilt.siglip.config.num_hidden_layers == 2

    tokenizer = SiglipTextEncoder.build_tokenizer(cfg)
    assert tokenizer.max_tokens == 64 and tokenizer.unk_id == 2
    assert tokenizer.encode('\u6771\u4eac') == [2, 1]
    assert tokenizer.encode('a car') == encoder.tokenize(
        ['a car'])[0][0, :3].tolist()
    assert 'tiny-siglip' in tokenizer.description

    name = 'google/siglip2-so400m-patch16-512'  # not on this machine
    with pytest.raises(OSError, match='model.text_encoder.text_config'):
        SiglipTextEncoder.offline_cfg(dict(pretrained=name), 'checkpoint')
    with pytest.raises(TokenizerUnavailableError, match='tokenizer'):
        SiglipTextEncoder.build_tokenizer(dict(pretrained=name))
    full = SiglipTextEncoder.offline_cfg(dict(pretrained=name), 'random')
    assert full['tokenizer'] == 'mmrrsis-tiny'
    assert full['text_config']['hidden_size'] == 1152
    assert full['text_config']['vocab_size'] == 256000
    with torch.device('meta'):  # so400m's text tower, nothing allocated
        big = SiglipTextEncoder(
            pretrained=name, text_config=full['text_config'],
            tokenizer=full['tokenizer'])
    assert big.out_channels == 1152
    assert len(big.siglip.encoder.layers) == 27


def test_stand_in_tokenizer_ends_with_sep():
    tok = stand_in_tokenizer()
    ids = tok('A Car')['input_ids']
    assert ids[-1] == tok.eos_token_id and tok.pad_token_id == 0
    assert tok.convert_ids_to_tokens(ids[:-1]) == ['a', 'car']


TEXT_CONFIG = dict(
    vocab_size=512,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    max_position_embeddings=12,
    projection_size=24)


@pytest.fixture(scope='module')
def word_tokenizer_dir(tmp_path_factory, helpers):
    folder = tmp_path_factory.mktemp('siglip_word_tokenizer')
    helpers.write_tiny_tokenizer(folder)
    return str(folder)


def _encoder(tokenizer, **kwargs):
    torch.manual_seed(0)
    return SiglipTextEncoder(
        text_config=TEXT_CONFIG, tokenizer=tokenizer, **kwargs).eval()


def test_features_and_last_position_pooling(word_tokenizer_dir):
    # RSRefSeg2's setting
    encoder = _encoder(
        word_tokenizer_dir, padding='longest', use_attention_mask=True)
    texts = ['long truck', 'the white car on the left side of the road']
    with torch.no_grad():
        text = encoder(texts)
    lengths = [3, 11]  # words + </s>
    assert text.words.shape == (2, 11, 32)
    assert text.mask.tolist() == [[1.] * 3 + [0.] * 8, [1.] * 11]
    assert text.sentence.shape == (2, 24)
    # SigLIP's pooled vector: the head on the last position, padding or not
    head = encoder.siglip.head
    torch.testing.assert_close(text.sentence, head(text.words[:, -1]))
    # padding='longest' (the reference): the short one's features depend
    # on the batch; alone it is pooled at its own </s>
    with torch.no_grad():
        alone = encoder([texts[0]])
    assert alone.words.shape[1] == lengths[0]
    assert not torch.allclose(alone.sentence[0], text.sentence[0])


def test_max_length_padding_and_truncation(word_tokenizer_dir):
    encoder = _encoder(word_tokenizer_dir, padding='max_length', max_tokens=6)
    long = 'the white car on the left side of the road'
    with torch.no_grad():
        text = encoder(['tree', long])
        alone = encoder(['tree'])
    assert text.words.shape == (2, 6, 32)
    torch.testing.assert_close(alone.sentence[0], text.sentence[0])
    assert encoder.text_stats == dict(seen=3, truncated=1)
    with pytest.raises(ValueError, match='max_tokens=20'):
        _encoder(word_tokenizer_dir, max_tokens=20)


def test_lora_freezes_the_tower_but_not_the_logit_scale(word_tokenizer_dir):
    encoder = _encoder(
        word_tokenizer_dir,
        lora=dict(
            r=2, lora_alpha=2, target_modules=r'^(head|encoder\.layers\.\d+'
            r'\.self_attn\.(q_proj|v_proj))$'))
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    assert {'logit_scale', 'logit_bias'} <= trainable
    assert all('.lora_' in n for n in trainable - {'logit_scale',
                                                   'logit_bias'})
    assert len(trainable) == 2 + 2 * (2 * 2 + 1)
    with pytest.raises(ValueError, match='matches no layer'):
        _encoder(
            word_tokenizer_dir, lora=dict(r=2, target_modules='^nothing$'))


def test_offline_setup(word_tokenizer_dir, tmp_path):
    cfg = dict(
        type='SiglipTextEncoder',
        text_config=TEXT_CONFIG,
        pretrained='google/siglip2-so400m-patch16-512')
    # counting/benchmarking: the stand-in vocabulary when the real one
    # is not on this machine; no weights to load
    random = SiglipTextEncoder.offline_cfg(cfg, 'random')
    assert random['tokenizer'] == 'mmrrsis-tiny'
    assert random['pretrained'] is None
    assert cfg['pretrained'] is not None  # a copy
    # from a checkpoint: the real tokenizer or a clear error
    with pytest.raises(OSError, match='model.text_encoder.tokenizer'):
        SiglipTextEncoder.offline_cfg(cfg, 'checkpoint')
    local = SiglipTextEncoder.offline_cfg(
        dict(cfg, tokenizer=word_tokenizer_dir), 'checkpoint')
    assert local['tokenizer'] == word_tokenizer_dir
    tok = SiglipTextEncoder.build_tokenizer(
        dict(cfg, tokenizer=word_tokenizer_dir))
    assert tok.max_tokens == 12
    assert tok.encode('long truck')[-1] == 1  # </s>
    with pytest.raises(TokenizerUnavailableError):
        SiglipTextEncoder.build_tokenizer(cfg)
    with pytest.raises(OSError, match='No tokenizer'):
        SiglipTextEncoder.load_tokenizer({}, str(tmp_path))


def test_pretrained_weights_load_in_init_weights(word_tokenizer_dir,
                                                 tmp_path):
    from transformers import SiglipConfig, SiglipModel
    torch.manual_seed(1)
    source = SiglipModel(
        SiglipConfig(
            text_config=TEXT_CONFIG,
            vision_config=dict(
                hidden_size=16,
                intermediate_size=32,
                num_hidden_layers=1,
                num_attention_heads=2,
                image_size=16,
                patch_size=8)))
    source.save_pretrained(tmp_path)
    encoder = SiglipTextEncoder(
        text_config=TEXT_CONFIG,
        pretrained=str(tmp_path),
        tokenizer=word_tokenizer_dir,
        lora=dict(r=2, lora_alpha=2, target_modules=r'^head$'))
    assert not torch.equal(encoder.siglip.head.base_layer.weight,
                           source.text_model.head.weight)
    encoder.init_weights()
    assert torch.equal(encoder.siglip.head.base_layer.weight,
                       source.text_model.head.weight)
    assert torch.equal(encoder.logit_scale, source.logit_scale)
