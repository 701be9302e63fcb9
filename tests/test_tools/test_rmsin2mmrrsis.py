"""RMSIN checkpoint conversion: a state dict in RMSIN's key layout (the
key names listed from the reference model, Lsan2401/RMSIN @ b4a9b27) at
tiny shapes converts and loads strictly; the CLI reads weights only."""
import argparse
import importlib.util
import json
import os.path as osp
import re

import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.models.utils import convert_rmsin
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the reference's state-dict keys (backbone + classifier) at depths
# (1, 1, 1, 1), as printed by RMSIN's own modules
REFERENCE_KEYS = osp.join(REPO, 'tests', 'data', 'models', 'rmsin_keys.json')


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_rmsin(seed=0):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tiny', 'rmsin_swin-tiny_refsegrs-64x64.py'))
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg.model).eval()


def _lavt_helpers():
    """The LAVT layout writer of test_lavt2mmrrsis.py: RMSIN's Swin, PWAMs
    and language gates have LAVT's module names."""
    spec = importlib.util.spec_from_file_location(
        'lavt_layout', osp.join(osp.dirname(__file__), 'test_lavt2mmrrsis.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAVT = _lavt_helpers()
# (our key pattern, RMSIN's) for what RMSIN adds, written from its module
# names; the first that matches renames the key
TO_RMSIN = [
    (r'backbone\.fusion\.visual_gates\.(\d+)\.',
     r'backbone.layers.\1.visual_gate.'),
    (r'backbone\.fusion\.intra\.(\d+)\.blocks\.(\d)\.(pointwise|serial|'
     r'identity)\.',
     lambda m: f'backbone.layers.{m[1]}.visual_residual.repblock.brb_' +
     dict(pointwise='1x1', serial='3x3', identity='identity')[m[3]] +
     ('_2' if m[2] == '1' else '') + '.'),
    (r'neck\.(reduce|expand|out_bn)\.', lambda m: 'backbone.cim.' + dict(
        reduce='down_channel', expand='up_channel', out_bn='bn')[m[1]] + '.'),
    (r'neck\.blocks\.(\d+)\.attn([12])\.(\w+)\.',
     lambda m: f'backbone.cim.block.{m[1]}.csa{m[2]}.m.' + dict(
         in_bn='bn1', down2='DWConv1', down3='DWConv2',
         qkv='attention.qkv.c', qkv_bn='attention.qkv.bn',
         value_conv='attention.parallel_conv.1',
         out_proj='attention.to_out', token_proj='attention.proj',
         out_bn='bn4', out_conv='conv')[m[3]] + '.'),
    (r'neck\.blocks\.(\d+)\.(scale_ffns\.(\d)|ffn)\.(\w+)\.',
     lambda m: f'backbone.cim.block.{m[1]}.' +
     ('ff.m.' if m[3] is None else f'intra_ff.m.ff{int(m[3]) + 1}.m.') +
     dict(bn1='bn1', fc1='conv1', bn2='bn2', dwconv='conv2',
          fc2='conv3')[m[4]] + '.'),
    (r'neck\.gates\.(\d+)\.(\w+)\.',
     lambda m: f'backbone.cim.fusion.{m[1]}.' + dict(
         local_conv='local_embedding', local_bn='bn1',
         global_conv='global_embedding', global_bn='bn2',
         act_conv='global_act', act_bn='bn3')[m[2]] + '.'),
    (r'decode_head\.fuse_convs\.(\d)\.1\.conv\.routing\.ln\.',
     lambda m: f'classifier.conv2_{4 - int(m[1])}.rounting_func.norm.norm.'),
    (r'decode_head\.fuse_convs\.(\d)\.1\.conv\.routing\.',
     lambda m: f'classifier.conv2_{4 - int(m[1])}.rounting_func.'),
    (r'decode_head\.fuse_convs\.(\d)\.(\d)\.(conv|bn)\.',
     lambda m: f'classifier.{m[3]}{int(m[2]) + 1}_{4 - int(m[1])}.'),
] + LAVT.OURS_TO_LAVT + [
    (r'backbone\.(patch_embed\.norm|norm\d)\.', r'backbone.\1.'),  # same
]


def rmsin_checkpoint(model):
    """What RMSIN's train.py saves for ``model``'s weights (lavt_one)."""
    state = {}
    for key, value in model.state_dict().items():
        if key.startswith('text_encoder.bert.'):
            state['text_encoder.' + key[len('text_encoder.bert.'):]] = value
            continue
        for pattern, repl in TO_RMSIN:
            new, n = re.subn('^' + pattern, repl, key)
            if n:
                break
        assert n, key
        if '.downsample.' in new:
            value = LAVT.to_lavt_order(value)
        elif '.fusion.' in new and new.endswith('weight') and \
                value.dim() == 2 and 'visual_gate' not in new:
            value = value.unsqueeze(-1)  # RMSIN's PWAMs are Conv1d
        state[new] = value.clone()
    return {
        'model': state,
        'optimizer': {'state': {}, 'param_groups': []},
        'epoch': 39,
        'args': argparse.Namespace(lr=3e-5, model='lavt_one'),
        'lr_scheduler': {'last_epoch': 100}
    }


def randomised(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for name, value in model.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.randn_like(value) * 0.1 +
                            ('running_var' in name))
    return model


def test_key_layout_is_rmsins():
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    with open(REFERENCE_KEYS) as f:
        reference = set(json.load(f))
    ours = {k for k in checkpoint['model'] if not k.startswith('text_')}
    assert ours == reference


def test_converted_checkpoint_loads_strictly_and_computes_the_same():
    source = randomised(tiny_rmsin())
    converted = convert_rmsin(rmsin_checkpoint(source))
    target = tiny_rmsin(seed=2)
    target.load_state_dict(converted, strict=True)
    restored = target.state_dict()
    assert all(torch.equal(restored[k], v)
               for k, v in source.state_dict().items())
    # the converted model computes what the source computes
    metas = [dict(text=t, img_shape=(64, 64), ori_shape=(64, 64))
             for t in ('a car', 'the long truck on the road')]
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = [m.encode_decode(images, metas) for m in (source, target)]
    torch.testing.assert_close(*logits)


def test_unknown_keys_are_named():
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    checkpoint['model']['backbone.cim.block.0.extra.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match='backbone.cim.block.0.extra'):
        convert_rmsin(checkpoint)


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'rmsin2mmrrsis',
        osp.join(REPO, 'tools', 'model_converters', 'rmsin2mmrrsis.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    return cli


def test_cli_reads_weights_only(tmp_path, capsys):
    cli = load_cli()
    source = randomised(tiny_rmsin())
    src = tmp_path / 'model_best_RMSIN.pth'
    torch.save(rmsin_checkpoint(source), src)
    dst = tmp_path / 'out' / 'rmsin.pth'
    cli.main([str(src), str(dst)])
    assert 'tensors written' in capsys.readouterr().out
    saved = torch.load(dst, weights_only=True)
    target = tiny_rmsin(seed=3)
    target.load_state_dict(saved['state_dict'], strict=True)
    torch.testing.assert_close(target.neck.reduce.weight,
                               source.neck.reduce.weight)


class _Payload:
    ran = []

    def __reduce__(self):
        return (_Payload.ran.append, ('ran',))


def test_cli_refuses_a_pickled_payload(tmp_path):
    cli = load_cli()
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    checkpoint['args'] = _Payload()
    src = tmp_path / 'evil.pth'
    torch.save(checkpoint, src)
    with pytest.raises(SystemExit, match='Refusing to load'):
        cli.main([str(src), str(tmp_path / 'out.pth')])
    assert _Payload.ran == [] and not (tmp_path / 'out.pth').exists()
