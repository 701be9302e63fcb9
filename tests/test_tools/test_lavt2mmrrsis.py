"""tools/model_converters/lavt2mmrrsis.py: a LAVT training checkpoint in,
a weights-only mmrrsis checkpoint out whose saved arguments are checked
when it is loaded (the key maps: tests/test_models/test_converters)."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.runner import load_checkpoint
from test_models.test_converters import reference_layouts as LAYOUTS

from mmrrsis.apis import CheckpointMismatchError, init_model

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(REPO, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module




@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def cli():
    return _load(
        osp.join(REPO, 'tools', 'model_converters', 'lavt2mmrrsis.py'),
        'lavt2mmrrsis')


def test_cli(tmp_path):
    source = LAYOUTS.tiny_lavt(seed=3)
    src, dst = tmp_path / 'lavt.pth', tmp_path / 'out' / 'mmrrsis.pth'
    checkpoint = LAYOUTS.lavt_checkpoint(source)
    # what LAVT's train.py saves besides the weights
    checkpoint.update(
        optimizer=torch.optim.AdamW([torch.zeros(1, requires_grad=True)
                                     ]).state_dict(),
        epoch=39,
        args=argparse.Namespace(lr=5e-5, swin_type='base', window12=True),
        lr_scheduler=dict(last_epoch=100, base_lrs=[5e-5]))
    torch.save(checkpoint, src)
    cli().main([str(src), str(dst)])
    target = LAYOUTS.tiny_lavt(seed=4)
    load_checkpoint(target, str(dst), map_location='cpu', strict=True)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['reference_args']['swin_type'] == 'base'


def test_mha_checkpoint_refused_by_the_one_head_config(tmp_path):
    """Converted weights of a --mha 2-2-4-8 model load into a config with
    those heads, and init_model refuses the 1-head config, naming the
    option (before, they loaded into it and computed something else)."""
    source = LAYOUTS.tiny_lavt(seed=1, fusion=dict(num_heads=[2, 2, 4, 8]))
    checkpoint = LAYOUTS.lavt_checkpoint(source, bert_inside=True)
    checkpoint['args'] = argparse.Namespace(mha='2-2-4-8')
    src, dst = tmp_path / 'lavt.pth', tmp_path / 'mmrrsis.pth'
    torch.save(checkpoint, src)
    cli().main([str(src), str(dst)])
    with pytest.raises(CheckpointMismatchError) as info:
        init_model(LAVT_TINY, str(dst), device='cpu')
    assert 'model.backbone.fusion_cfg.num_heads must be [2, 2, 4, 8]' in \
        str(info.value)
    heads = {'model.backbone.fusion_cfg.num_heads': [2, 2, 4, 8]}
    model = init_model(LAVT_TINY, str(dst), device='cpu', cfg_options=heads)
    assert model.backbone.fusion.pwams[3].num_heads == 8
    # a checkpoint without args: --reference-args states them
    del checkpoint['args']
    torch.save(checkpoint, src)
    cli().main([str(src), str(dst), '--reference-args', 'mha=2-2-4-8'])
    init_model(LAVT_TINY, str(dst), device='cpu', cfg_options=heads)
    with pytest.raises(SystemExit, match='error: .*--mha'):
        cli().main([str(src), str(dst), '--reference-args', 'mha=2-2'])
