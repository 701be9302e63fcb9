"""The text encoder contract: the setup class methods' defaults and
finding text encoders in a model config through the registry."""
import pytest
import torch
from mmengine.config import Config

from mmrrsis.models.text_encoders import (
    BaseTextEncoder,
    BertTextEncoder,
    SiglipTextEncoder,
    TokenizerUnavailableError,
    iter_text_encoder_cfgs,
)
from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS


@MODELS.register_module(force=True)
class _WordCountEncoder(BaseTextEncoder):
    """An encoder that downloads nothing and keeps the base defaults."""

    out_channels = 1

    def forward(self, texts):
        counts = torch.tensor([[float(len(t.split()))] for t in texts])
        return TextFeatures(counts[:, None], torch.ones(len(texts), 1))


def test_defaults_copy_and_refuse():
    cfg = dict(type='_WordCountEncoder', extra=dict(a=1))
    offline = _WordCountEncoder.offline_cfg(cfg, 'checkpoint')
    assert offline == cfg and offline is not cfg
    assert offline['extra'] is not cfg['extra']
    with pytest.raises(ValueError, match='purpose'):
        _WordCountEncoder.offline_cfg(cfg, 'download')
    with pytest.raises(TokenizerUnavailableError, match='_WordCountEncoder'):
        _WordCountEncoder.build_tokenizer(cfg)


def test_iter_text_encoder_cfgs_resolves_through_the_registry(helpers):
    model = helpers.model_cfg('lavt_swin-tiny')
    found = list(iter_text_encoder_cfgs(model))
    assert len(found) == 1
    node, cls = found[0]
    assert cls is BertTextEncoder and node is model['text_encoder']
    # a scoped name (mmseg-scope configs), a class, a registered subclass
    mix = Config.fromfile(
        f'{helpers.configs}/mix/fusion-late_r18_refsegrs-64x64.py').model
    assert [c for _, c in iter_text_encoder_cfgs(mix)] == [BertTextEncoder]
    nested = dict(
        type='Anything',
        parts=[dict(type=SiglipTextEncoder), dict(type='_WordCountEncoder'),
               dict(type='ResNetV1c'), dict(type='NotRegistered')])
    assert [c for _, c in iter_text_encoder_cfgs(nested)] == [
        SiglipTextEncoder, _WordCountEncoder]
    assert list(iter_text_encoder_cfgs(dict(type='BN'))) == []
