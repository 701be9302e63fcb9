"""prepare_for_checkpoint / make_offline: what they change in a config
(that a checkpoint then loads without the pretrained weights, for BERT and
SigLIP: tests/test_models/test_text_encoders/test_offline_setup.py)."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmrrsis.apis import (
    load_config,
    make_offline,
    prepare_for_checkpoint,
)
from mmrrsis.models.text_encoders import BertTextEncoder
from mmrrsis.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


@pytest.fixture
def hf_folder(tmp_path):
    """A tiny BERT saved the HuggingFace way (config, weights, tokenizer).
    """
    cfg = Config.fromfile(LAVT_TINY).model.text_encoder
    encoder = MODELS.build(
        dict(
            type='mmrrsis.BertTextEncoder',
            pretrained=None,
            bert_config=cfg.bert_config,
            vocab=cfg.vocab))
    folder = str(tmp_path / 'tiny-bert')
    encoder.bert.save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    return folder


def test_prepare_for_checkpoint_edits_only_what_it_must(hf_folder):
    cfg = load_config(LAVT_TINY, {
        'model.text_encoder.pretrained': hf_folder,
        'model.text_encoder.bert_config': None,
        'model.text_encoder.vocab': None,
        'model.backbone.init_cfg': dict(
            type='Pretrained', checkpoint='swin.pth'),
    })
    prepare_for_checkpoint(cfg.model)
    assert cfg.model.backbone.init_cfg is None
    assert cfg.model.text_encoder.bert_config == \
        BertTextEncoder.local_architecture(hf_folder)
    assert cfg.model.text_encoder.bert_config['hidden_size'] == 32
    assert cfg.model.text_encoder.vocab == hf_folder
    # a BERT already given by its config is left alone
    tiny = load_config(LAVT_TINY)
    before = dict(tiny.model.text_encoder.bert_config)
    prepare_for_checkpoint(tiny.model)
    assert dict(tiny.model.text_encoder.bert_config) == before


def test_bert_config_missing_says_what_is_needed(tmp_path):
    empty = tmp_path / 'no-config'
    empty.mkdir()
    cfg = load_config(LAVT_TINY, {
        'model.text_encoder.pretrained': str(empty),
        'model.text_encoder.bert_config': None,
    })
    with pytest.raises(OSError, match='config.json') as info:
        prepare_for_checkpoint(cfg.model)
    assert 'model.text_encoder.bert_config' in str(info.value)
    # for counting, bert-base dimensions stand in (said in the log)
    make_offline(cfg.model, 'random')
    assert cfg.model.text_encoder.bert_config == {}
