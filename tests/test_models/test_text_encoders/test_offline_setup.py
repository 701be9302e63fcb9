"""A new text encoder needs no edit outside its own file (the guide's
"touch only these places"): loading a checkpoint without downloads
(``init_model``), counting parameters and FLOPs (``get_flops.py
--offline-text-encoder``), the offline benchmark and the dataset doctor's
token counts all go through the encoder's own ``offline_cfg`` and
``build_tokenizer``; shown with the tiny BERT and the tiny SigLIP text
tower."""
import glob
import importlib.util
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrrsis.apis import init_model, make_offline
from mmrrsis.doctor.dataset_doctor import build_token_counter
from mmrrsis.models.text_encoders import iter_text_encoder_cfgs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIGS = {
    'bert': ('configs/tiny/lavt_swin-tiny_refsegrs-64x64.py', 'bert_config',
             'vocab'),
    'siglip': ('configs/tiny/lavt-siglip_swin-tiny_refsegrs-64x64.py',
               'text_config', 'tokenizer'),
}


def _get_flops():
    spec = importlib.util.spec_from_file_location(
        'get_flops', osp.join(ROOT, 'tools', 'analysis_tools',
                              'get_flops.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture(params=sorted(CONFIGS))
def encoder_case(request, tmp_path):
    """(config, options naming a pretrained folder, arch key, tokenizer
    key); the folder holds the encoder saved the HuggingFace way."""
    config, arch_key, tok_key = CONFIGS[request.param]
    config = osp.join(ROOT, config)
    model = init_model(config, device='cpu')
    encoder = model.text_encoder
    folder = str(tmp_path / f'tiny-{request.param}')
    hf_model = getattr(encoder, 'bert', None)
    if hf_model is None:  # SigLIP's text transformer, as a SiglipTextModel
        from transformers import SiglipTextModel
        hf_model = SiglipTextModel(encoder.siglip.config)
        hf_model.text_model.load_state_dict(encoder.siglip.state_dict())
    hf_model.save_pretrained(folder)
    encoder.tokenizer.save_pretrained(folder)
    options = {
        'model.text_encoder.pretrained': folder,
        f'model.text_encoder.{arch_key}': None,
        f'model.text_encoder.{tok_key}': None,
    }
    return config, options, arch_key, tok_key


def test_checkpoint_loads_without_the_pretrained_weights(
        encoder_case, tmp_path, monkeypatch):
    config, options, arch_key, tok_key = encoder_case
    torch.manual_seed(1)
    trained = init_model(config, device='cpu', cfg_options=options)
    with torch.no_grad():
        for p in trained.text_encoder.parameters():
            p.add_(0.5)
    ckpt = str(tmp_path / 'trained.pth')
    torch.save(dict(state_dict=trained.state_dict()), ckpt)
    folder = options['model.text_encoder.pretrained']
    for weights in glob.glob(osp.join(folder, '*.safetensors')) + \
            glob.glob(osp.join(folder, '*.bin')):
        os.remove(weights)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    model = init_model(config, ckpt, device='cpu', cfg_options=options)
    for key, value in trained.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    text_cfg = model.cfg.model.text_encoder
    assert text_cfg[arch_key]['hidden_size'] == 32
    assert text_cfg[tok_key] == folder


def test_flops_benchmark_and_doctor_use_the_encoder(encoder_case):
    config, options, arch_key, tok_key = encoder_case
    counted = _get_flops().count(config, (64, 64),
                                 offline_text_encoder=True,
                                 cfg_options=options)
    model = init_model(config, device='cpu', cfg_options=options)
    assert counted['params'] == sum(p.numel() for p in model.parameters())
    assert counted['parts']['text_encoder'][1] > 0

    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    make_offline(cfg.model)  # what benchmark.py --offline does
    (node, cls), = iter_text_encoder_cfgs(cfg.model)
    assert node[arch_key]['hidden_size'] == 32
    assert node[tok_key] == options['model.text_encoder.pretrained']

    tokenizer = build_token_counter(cfg)
    assert "the config's tokenizer" in tokenizer.description
    assert tokenizer.max_tokens == 20
    ids, mask = model.text_encoder.tokenize(['a car on the road'])
    assert tokenizer.encode('a car on the road') == \
        ids[0, :int(mask[0].sum())].tolist()
