"""init_model with a checkpoint builds BERT from its configuration: the
pretrained weights are never loaded (nor downloaded) only to be replaced.
"""
import glob
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrrsis.apis import (
    bert_config_of,
    init_model,
    load_config,
    prepare_for_checkpoint,
)
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


def test_checkpoint_given_bert_from_its_config(tmp_path, hf_folder,
                                               monkeypatch):
    options = {
        'model.text_encoder.pretrained': hf_folder,
        'model.text_encoder.bert_config': None,
        'model.text_encoder.vocab': None,
    }
    # a trained model whose BERT differs from the folder's weights
    torch.manual_seed(1)
    trained = init_model(LAVT_TINY, device='cpu', cfg_options=options)
    with torch.no_grad():
        for p in trained.text_encoder.parameters():
            p.add_(0.5)
    ckpt = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict=trained.state_dict(), meta={}), ckpt)

    # only config.json and the tokenizer files are needed now
    for weights in glob.glob(osp.join(hf_folder, '*.safetensors')) + \
            glob.glob(osp.join(hf_folder, '*.bin')):
        os.remove(weights)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')

    def no_weights(*args, **kwargs):
        raise AssertionError('BertModel.from_pretrained was called')

    monkeypatch.setattr('transformers.BertModel.from_pretrained', no_weights)
    model = init_model(LAVT_TINY, ckpt, device='cpu', cfg_options=options)
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    text_cfg = model.cfg.model.text_encoder
    assert text_cfg.bert_config['hidden_size'] == 32
    assert text_cfg.pretrained == hf_folder  # the tokenizer's source
    # without a checkpoint the weights are wanted, and are gone
    with pytest.raises(AssertionError, match='from_pretrained'):
        init_model(LAVT_TINY, device='cpu', cfg_options=options)


def test_prepare_for_checkpoint_edits_only_what_it_must(hf_folder):
    cfg = load_config(LAVT_TINY, {
        'model.text_encoder.pretrained': hf_folder,
        'model.text_encoder.bert_config': None,
        'model.backbone.init_cfg': dict(
            type='Pretrained', checkpoint='swin.pth'),
    })
    prepare_for_checkpoint(cfg.model)
    assert cfg.model.backbone.init_cfg is None
    assert cfg.model.text_encoder.bert_config == bert_config_of(hf_folder)
    # a BERT already given by its config is left alone
    tiny = load_config(LAVT_TINY)
    before = dict(tiny.model.text_encoder.bert_config)
    prepare_for_checkpoint(tiny.model)
    assert dict(tiny.model.text_encoder.bert_config) == before


def test_bert_config_missing_says_what_is_needed(tmp_path):
    empty = tmp_path / 'no-config'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='config.json'):
        bert_config_of(str(empty))
