"""mmrrsis.doctor.weights and tools/misc/check_weights.py on tiny files the
tests write (nothing is downloaded)."""
import importlib.util
import os
import os.path as osp

import pytest
import torch
from mmengine import Config

from mmrrsis.doctor import check_weights, format_weights_report
from mmrrsis.doctor.weights import resolve_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONVNEXT_TINY = osp.join(ROOT, 'configs', 'tiny',
                         'lavt_convnext-tiny_refsegrs-64x64.py')
LAVT_TINY = osp.join(ROOT, 'configs', 'tiny',
                     'lavt_swin-tiny_refsegrs-64x64.py')


def _convnext(channels=(32, 64, 128, 256)):
    from mmpretrain.models.backbones import ConvNeXt
    torch.manual_seed(0)
    return ConvNeXt(
        arch=dict(depths=[1, 1, 1, 1], channels=list(channels)),
        out_indices=[3])


def _classifier_file(path, net, drop=()):
    """An mmpretrain classification checkpoint: keys under 'backbone.',
    a head, only the last output norm."""
    state = {'backbone.' + k: v for k, v in net.state_dict().items()
             if not k.startswith(tuple(drop))}
    state['head.fc.weight'] = torch.zeros(10, net.channels[-1])
    torch.save(dict(state_dict=state, meta=dict()), path)
    return str(path)


def _cfg_with(checkpoint, prefix='backbone.'):
    return {
        'model.backbone.encoder.init_cfg':
        dict(type='Pretrained', checkpoint=checkpoint, prefix=prefix)
    }


def test_right_file(tmp_path):
    path = _classifier_file(tmp_path / 'right.pth', _convnext())
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(path))
    assert check.ok and check.local == path
    assert check.where == 'model.backbone.encoder.init_cfg.checkpoint'
    assert check.keys_checked > 20
    # the classifier has only norm3: norm0-2 keep their initialisation
    assert 'norm0.weight' in check.notes[0] and 'norm3' not in \
        check.notes[0]
    assert '[OK]' in format_weights_report([check])


def test_wrong_shapes(tmp_path):
    path = _classifier_file(tmp_path / 'wide.pth',
                            _convnext(channels=(48, 96, 192, 384)))
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(path))
    assert not check.ok
    assert 'other shapes' in check.problems[0]
    assert check.problems[0].startswith('54 tensors of '
                                        'model.backbone.encoder')
    assert 'downsample_layers.0.0.weight: file (48, 3, 4, 4), model ' \
        '(32, 3, 4, 4)' in check.problems[0]


def test_missing_keys_and_wrong_prefix(tmp_path):
    path = _classifier_file(
        tmp_path / 'partial.pth', _convnext(), drop=('stages.3.', ))
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(path))
    assert not check.ok
    assert 'stages.3.0' in check.problems[0]
    assert 'random initialisation' in check.problems[0]
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(path, prefix='enc.'))
    assert 'prefix="enc."' in check.problems[0]
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(path, prefix=None))
    assert 'none of the' in check.problems[0]


def test_missing_file_url_and_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    (check, ) = check_weights(CONVNEXT_TINY,
                              _cfg_with(str(tmp_path / 'nowhere.pth')))
    assert check.local is None and 'does not exist' in check.how_to_get
    url = 'https://example.org/zoo/convnext-tiny-test_20990101-0000.pth'
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(url))
    cached = osp.join(str(tmp_path), 'torch', 'hub', 'checkpoints',
                      'convnext-tiny-test_20990101-0000.pth')
    assert check.local is None
    assert cached in check.how_to_get and 'wget -P' in check.how_to_get
    # once in torch hub's cache (where mmengine would download it), it is
    # found and compared
    os.makedirs(osp.dirname(cached))
    _classifier_file(cached, _convnext())
    (check, ) = check_weights(CONVNEXT_TINY, _cfg_with(url))
    assert check.ok and check.local == cached
    assert resolve_checkpoint(url)[0] == cached


def test_mmseg_swin_loader_rules(tmp_path):
    """LanguageAwareSwin (mmseg's Swin) loads a file its own way: a
    'backbone.' prefix is stripped without init_cfg.prefix; its fusion is
    not expected in an image checkpoint."""
    from mmrrsis.models.backbones import LanguageAwareSwin
    cfg = Config.fromfile(LAVT_TINY).model.backbone.to_dict()
    cfg.pop('type')
    swin = LanguageAwareSwin(**cfg)
    state = {'backbone.' + k: v for k, v in swin.state_dict().items()
             if not k.startswith('fusion.')}
    path = str(tmp_path / 'swin.pth')
    torch.save(state, path)
    options = {
        'model.backbone.init_cfg': dict(type='Pretrained', checkpoint=path)
    }
    (check, ) = check_weights(LAVT_TINY, options)
    assert check.ok, check.problems
    torch.save({k: v for k, v in state.items()
                if not k.startswith('backbone.stages.2.')}, path)
    (check, ) = check_weights(LAVT_TINY, options)
    assert not check.ok and 'stages.2.blocks.0' in check.problems[0]


def _bert_folder(folder, weights=True, prefix='bert.'):
    from transformers import BertConfig, BertModel
    folder.mkdir()
    config = BertConfig(
        **Config.fromfile(LAVT_TINY).model.text_encoder.bert_config)
    config.save_pretrained(str(folder))
    from mmrrsis.models.text_encoders.tiny_vocab import tiny_vocab
    (folder / 'vocab.txt').write_text('\n'.join(tiny_vocab()) + '\n')
    if weights:
        torch.manual_seed(0)
        bert = BertModel(config)
        state = {prefix + k: v for k, v in bert.state_dict().items()}
        torch.save(state, str(folder / 'pytorch_model.bin'))
    return str(folder)


def test_text_encoder_folder_and_hf_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf
    monkeypatch.setattr(hf, 'HF_HUB_CACHE', str(tmp_path / 'hf'))
    text_cfg = Config.fromfile(LAVT_TINY).model.text_encoder.to_dict()
    options = {'model.text_encoder': dict(
        text_cfg, pretrained='bert-base-uncased', bert_config=None,
        vocab=None)}
    (check, ) = check_weights(LAVT_TINY, options)
    assert check.kind == 'huggingface' and check.local is None
    assert 'huggingface-cli download bert-base-uncased config.json ' \
        'model.safetensors vocab.txt' in check.how_to_get
    # a local folder: config, vocabulary and weights (HF's 'bert.' names)
    folder = _bert_folder(tmp_path / 'bert')
    options['model.text_encoder']['pretrained'] = folder
    (check, ) = check_weights(LAVT_TINY, options)
    assert check.ok, check.problems
    assert check.keys_checked > 30
    # without weights it is missing, and says what
    empty = _bert_folder(tmp_path / 'bert_no_weights', weights=False)
    options['model.text_encoder']['pretrained'] = empty
    (check, ) = check_weights(LAVT_TINY, options)
    assert check.local is None and 'lacks weights' in check.how_to_get


def test_tool_exit_codes(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'check_weights', osp.join(ROOT, 'tools', 'misc', 'check_weights.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    right = _classifier_file(tmp_path / 'right.pth', _convnext())
    wrong = _classifier_file(tmp_path / 'wrong.pth',
                             _convnext(channels=(8, 16, 32, 64)))
    key = 'model.backbone.encoder.init_cfg'
    opts = ['--cfg-options', f'{key}.type=Pretrained',
            f'{key}.prefix=backbone.']
    assert tool.main([CONVNEXT_TINY, *opts,
                      f'{key}.checkpoint={right}']) == 0
    out = tmp_path / 'report.json'
    assert tool.main([CONVNEXT_TINY, *opts, f'{key}.checkpoint={wrong}',
                      '--out', str(out)]) == 1
    assert '"ok": false' in out.read_text()
    assert tool.main([LAVT_TINY]) == 0
    assert 'names no pretrained file' in capsys.readouterr().out


@pytest.mark.parametrize('config', [
    'configs/mix/lavt_convnext-b_4xb8-40e_refsegrs-480x480.py',
    'configs/mix/lavt_swinv2-b_4xb8-40e_refsegrs-480x480.py'
])
def test_full_size_configs_resolve_offline(config, tmp_path, monkeypatch):
    """The full-size configs' files are named and explained, nothing is
    downloaded (no model is built when nothing is local)."""
    import huggingface_hub.constants as hf
    monkeypatch.setattr(hf, 'HF_HUB_CACHE', str(tmp_path / 'hf'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    checks = check_weights(osp.join(ROOT, config))
    assert [c.kind for c in checks] == ['huggingface', 'checkpoint']
    assert all(c.local is None for c in checks)
    assert checks[1].name.startswith(
        'https://download.openmmlab.com/mmclassification/v0/')


def test_load_from_is_a_whole_model_checkpoint(tmp_path):
    from mmengine.registry import DefaultScope

    from mmrrsis.registry import MODELS
    cfg = Config.fromfile(LAVT_TINY)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        model = MODELS.build(cfg.model)
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    (check, ) = check_weights(LAVT_TINY, dict(load_from=path))
    assert check.where == 'load_from' and check.ok, check.problems
    # the fusion and the text encoder are expected in a model checkpoint
    state = {k: v for k, v in model.state_dict().items()
             if not k.startswith('backbone.fusion.')}
    torch.save(dict(state_dict=state), path)
    (check, ) = check_weights(LAVT_TINY, dict(load_from=path))
    assert not check.ok and 'backbone.fusion.' in check.problems[0]
