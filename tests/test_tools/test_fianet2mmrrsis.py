"""FIANet checkpoint conversion: a checkpoint in the reference's key layout
(``tests/data/models/fianet_keys.json``: the keys FIANet's code saves, at
the tiny config's shapes) converts and loads strictly into the tiny FIANet;
the saved arguments are applied (recorded, checked against a config) or
refused; the CLI reads weights only."""
import argparse
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.models.converters import (
    ConfigRequirementError,
    check_config_requirements,
    config_mismatches,
    convert_fianet,
    fianet_config_options,
)
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEYS = osp.join(REPO, 'tests', 'data', 'models', 'fianet_keys.json')
TINY = osp.join(REPO, 'configs', 'tiny', 'fianet_swin-tiny_refsegrs-64x64.py')


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_fianet():
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(Config.fromfile(TINY).model)


def reference_checkpoint(**args):
    """What FIANet's train.py saves, with random weights in its layout."""
    with open(KEYS) as f:
        keys = json.load(f)['keys']
    gen = torch.Generator().manual_seed(0)
    state = {}
    for name, shape, dtype in keys:
        if dtype == 'int64':
            state[name] = torch.zeros(shape, dtype=torch.long)
        else:
            state[name] = torch.randn(shape, generator=gen) * 0.1
    saved = dict(model='lavt_one', swin_type='base', mha='', num_tmem=1,
                 dataset='refsegrs', window12=False, lr=5e-5)
    saved.update(args)
    return dict(model=state, optimizer=dict(state={}, param_groups=[]),
                epoch=59, args=argparse.Namespace(**saved),
                lr_scheduler=dict(last_epoch=100), best_oIoU=78.3)


def test_reference_layout_loads_strictly():
    checkpoint = reference_checkpoint()
    converted = convert_fianet(checkpoint)
    model = tiny_fianet()
    model.load_state_dict(converted, strict=True)
    state = model.state_dict()
    ref = checkpoint['model']
    prefix = 'backbone.layers.1.object_position_align_blk.'
    torch.testing.assert_close(
        state['backbone.fusion.alignments.1.object_attn.key_proj.weight'],
        ref[prefix + 'go_cross_attn.f_key.0.weight'].squeeze(-1))
    torch.testing.assert_close(
        state['backbone.fusion.alignments.1.spatial_conv.weight'],
        ref[prefix + 'conv1.weight'])
    torch.testing.assert_close(
        state['backbone.fusion.gates.2.2.weight'],
        ref['backbone.layers.2.context_tanh_gate.2.weight'])
    torch.testing.assert_close(
        state['backbone.fusion.channel_weights.0.fc2.bias'],
        ref['backbone.layers.0.fc2.bias'])
    torch.testing.assert_close(
        state['neck.blocks.0.ffn.3.weight'],
        ref['backbone.tmem.block.0.ff.net.3.weight'])
    torch.testing.assert_close(state['neck.gates.3.act_bn.running_var'],
                               ref['backbone.tmem.fusion.3.bn3.running_var'])
    torch.testing.assert_close(
        state['text_encoder.bert.encoder.layer.1.output.dense.weight'],
        ref['text_encoder.encoder.layer.1.output.dense.weight'])


def test_unknown_keys_are_named():
    checkpoint = reference_checkpoint()
    checkpoint['model']['backbone.tmem.block.0.extra.weight'] = torch.ones(1)
    with pytest.raises(KeyError, match='tmem.block.0.extra'):
        convert_fianet(checkpoint)


def test_saved_arguments_applied_or_refused():
    options = fianet_config_options(reference_checkpoint())
    assert options == {
        'model.backbone.window_size': 4,
        'model.neck.num_blocks': 1,
        'config': 'configs/fianet/fianet_swin-b_1xb8-60e_refsegrs-480x480.py',
        'model.text_encoder.max_tokens': 20,
        'phrase classes': 'refsegrs'
    }
    tiny = Config.fromfile(TINY)
    assert config_mismatches(tiny, options) == []
    rrsisd = fianet_config_options(reference_checkpoint(dataset='rrsisd'))
    assert config_mismatches(tiny, rrsisd) == [
        'model.text_encoder.max_tokens is 20, the weights need 22'
    ]
    with pytest.raises(ValueError,
                       match=r'fusion_cfg.num_heads=\[4, 4, 4, 4\]'):
        convert_fianet(reference_checkpoint(mha='4-4-4-4'))
    with pytest.raises(ValueError, match='embed_dims'):
        convert_fianet(reference_checkpoint(swin_type='tiny'))
    with pytest.raises(ValueError, match='num_tmem=3 but .* 1 TMEM'):
        convert_fianet(reference_checkpoint(num_tmem=3))
    with pytest.raises(ValueError, match='lavt_one'):
        convert_fianet(reference_checkpoint(model='lavt'))


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'fianet2mmrrsis',
        osp.join(REPO, 'tools', 'model_converters', 'fianet2mmrrsis.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    return cli


def test_cli_reads_weights_only_and_records_the_arguments(tmp_path, capsys):
    cli = load_cli()
    src = tmp_path / 'model_best_FIANet.pth'
    torch.save(reference_checkpoint(), src)
    dst = tmp_path / 'out' / 'fianet.pth'
    cli.main([str(src), str(dst), '--config', TINY])
    printed = capsys.readouterr()
    assert 'model.neck.num_blocks=1' in printed.out
    # the saved args reach the LAVT part too: no "args unknown" warning
    assert 'holds no training arguments' not in printed.out + printed.err
    saved = torch.load(dst, weights_only=True)
    meta = saved['meta']
    assert meta['converted_from'] == str(src)
    assert meta['reference_args']['dataset'] == 'refsegrs'
    assert meta['config_options']['model.neck.num_blocks'] == 1
    # the same options are checked by every loader of mmrrsis
    check_config_requirements(meta, Config.fromfile(TINY), str(dst))
    with pytest.raises(ConfigRequirementError,
                       match=r'model.neck.num_blocks must be 1'):
        check_config_requirements(
            meta, dict(model=dict(neck=dict(num_blocks=3))), str(dst))
    model = tiny_fianet()
    model.load_state_dict(saved['state_dict'], strict=True)
    # a config the weights do not fit is refused, naming the option
    torch.save(reference_checkpoint(dataset='rrsisd'), src)
    with pytest.raises(SystemExit, match='max_tokens is 20'):
        cli.main([str(src), str(tmp_path / 'no.pth'), '--config', TINY])
    assert not (tmp_path / 'no.pth').exists()


class _Payload:
    ran = []

    def __reduce__(self):
        return (_Payload.ran.append, ('ran', ))


def test_cli_refuses_a_pickled_payload(tmp_path):
    cli = load_cli()
    checkpoint = reference_checkpoint()
    checkpoint['args'] = _Payload()
    src = tmp_path / 'evil.pth'
    torch.save(checkpoint, src)
    with pytest.raises(SystemExit, match='Refusing to load'):
        cli.main([str(src), str(tmp_path / 'out.pth')])
    assert _Payload.ran == [] and not (tmp_path / 'out.pth').exists()
