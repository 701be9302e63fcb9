"""SiglipTextEncoder: its tokenizer (a folder written by the test, or the
packaged stand-in), the features it returns, and its offline setup (C1)."""
import pytest
import torch

from mmrrsis.models.text_encoders import (
    SiglipTextEncoder,
    TokenizerUnavailableError,
)

TEXT_CONFIG = dict(
    vocab_size=512,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    max_position_embeddings=12,
    projection_size=24)


@pytest.fixture(scope='module')
def tokenizer_dir(tmp_path_factory, helpers):
    folder = tmp_path_factory.mktemp('siglip_tokenizer')
    helpers.write_tiny_tokenizer(folder)
    return str(folder)


def _encoder(tokenizer, **kwargs):
    torch.manual_seed(0)
    return SiglipTextEncoder(
        text_config=TEXT_CONFIG, tokenizer=tokenizer, **kwargs).eval()


def test_features_and_last_position_pooling(tokenizer_dir):
    encoder = _encoder(tokenizer_dir)
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


def test_max_length_padding_and_truncation(tokenizer_dir):
    encoder = _encoder(tokenizer_dir, padding='max_length', max_tokens=6)
    long = 'the white car on the left side of the road'
    with torch.no_grad():
        text = encoder(['tree', long])
        alone = encoder(['tree'])
    assert text.words.shape == (2, 6, 32)
    torch.testing.assert_close(alone.sentence[0], text.sentence[0])
    assert encoder.text_stats == dict(seen=3, truncated=1)
    with pytest.raises(ValueError, match='max_tokens=20'):
        _encoder(tokenizer_dir, max_tokens=20)


def test_lora_freezes_the_tower_but_not_the_logit_scale(tokenizer_dir):
    encoder = _encoder(
        tokenizer_dir,
        lora=dict(
            r=2, lora_alpha=2, target_modules=r'^(head|encoder\.layers\.\d+'
            r'\.self_attn\.(q_proj|v_proj))$'))
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    assert {'logit_scale', 'logit_bias'} <= trainable
    assert all('.lora_' in n for n in trainable - {'logit_scale',
                                                   'logit_bias'})
    assert len(trainable) == 2 + 2 * (2 * 2 + 1)
    with pytest.raises(ValueError, match='matches no layer'):
        _encoder(tokenizer_dir, lora=dict(r=2, target_modules='^nothing$'))


def test_offline_setup(tokenizer_dir, tmp_path):
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
    with pytest.raises(TokenizerUnavailableError,
                       match='model.text_encoder.tokenizer'):
        SiglipTextEncoder.offline_cfg(cfg, 'checkpoint')
    local = SiglipTextEncoder.offline_cfg(
        dict(cfg, tokenizer=tokenizer_dir), 'checkpoint')
    assert local['tokenizer'] == tokenizer_dir
    tok = SiglipTextEncoder.build_tokenizer(dict(cfg,
                                                 tokenizer=tokenizer_dir))
    assert tok.max_tokens == 12
    assert tok.encode('long truck')[-1] == 1  # </s>
    with pytest.raises(TokenizerUnavailableError):
        SiglipTextEncoder.build_tokenizer(cfg)
    with pytest.raises(TokenizerUnavailableError, match='No tokenizer'):
        SiglipTextEncoder.load_tokenizer(str(tmp_path))


def test_pretrained_weights_load_in_init_weights(tokenizer_dir, tmp_path):
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
        tokenizer=tokenizer_dir,
        lora=dict(r=2, lora_alpha=2, target_modules=r'^head$'))
    assert not torch.equal(encoder.siglip.head.base_layer.weight,
                           source.text_model.head.weight)
    encoder.init_weights()
    assert torch.equal(encoder.siglip.head.base_layer.weight,
                       source.text_model.head.weight)
    assert torch.equal(encoder.logit_scale, source.logit_scale)
