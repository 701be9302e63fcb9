"""tools/model_converters/rsrefseg22mmrrsis.py on a checkpoint in
RSRefSeg2's layout (tiny shapes, names read off its modules): the output
loads strictly, with and without --merge-lora, and carries its meta; an
unexpected key set is refused with the keys named."""
import gzip
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.compat import load_checkpoint_file
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEYS = osp.join(REPO, 'tests', 'data', 'models',
                'rsrefseg2_reference_keys.json.gz')
TOOL = osp.join(REPO, 'tools', 'model_converters', 'rsrefseg22mmrrsis.py')
TINY = osp.join(REPO, 'configs', '_base_', 'models', 'rsrefseg2_tiny.py')


def _tool():
    spec = importlib.util.spec_from_file_location('rsrefseg22mmrrsis', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def _build(**kwargs):
    cfg = Config.fromfile(TINY).model.to_dict()
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg)


@pytest.fixture(scope='module')
def reference_file(tmp_path_factory):
    with gzip.open(KEYS, 'rt') as f:
        keys = json.load(f)['tiny']
    gen = torch.Generator().manual_seed(0)
    state = {
        name: (torch.tensor(2) if name.endswith('num_batches_tracked') else
               torch.rand(shape, generator=gen).to(torch.bfloat16))
        for name, shape in keys
    }
    path = tmp_path_factory.mktemp('reference') / 'refsegrs.pth'
    torch.save(dict(state_dict=state), path)  # the release: state_dict only
    return path, state


def test_converts_and_loads_strictly(reference_file, tmp_path, capsys):
    src, state = reference_file
    dst = tmp_path / 'out' / 'rsrefseg2.pth'
    _tool().main([str(src), str(dst)])
    assert 'tensors written' in capsys.readouterr().out
    ckpt = load_checkpoint_file(str(dst))
    assert ckpt['meta'] == dict(converted_from=str(src), lora_merged=False)
    _build().load_state_dict(ckpt['state_dict'], strict=True)
    merged = tmp_path / 'merged.pth'
    _tool().main([str(src), str(merged), '--merge-lora'])
    ckpt = load_checkpoint_file(str(merged))
    assert ckpt['meta']['lora_merged'] is True
    _build(lora_merged=True).load_state_dict(ckpt['state_dict'], strict=True)
    # merged weights: W + B A in float32 from the bf16 file
    key = 'backbone.sam.backbone.blocks.0.attn.qkv.weight'
    prefix = ('backbone.model.image_encoder.base_model.model.trunk.blocks.0.'
              'attn.qkv.')
    expected = state[prefix + 'base_layer.weight'].float() + (
        state[prefix + 'lora_B.default.weight'].float()
        @ state[prefix + 'lora_A.default.weight'].float())
    torch.testing.assert_close(ckpt['state_dict'][key], expected)


def test_refuses_unexpected_keys(reference_file, tmp_path):
    _, state = reference_file
    bad = dict(state)
    bad['backbone.model.memory_attention.layers.0.norm1.weight'] = \
        torch.ones(1)
    src = tmp_path / 'bad.pth'
    torch.save(dict(state_dict=bad), src)
    with pytest.raises(SystemExit) as err:
        _tool().main([str(src), str(tmp_path / 'out.pth')])
    assert 'backbone.model.memory_attention.layers.0.norm1.weight' in str(
        err.value)
    assert not osp.exists(tmp_path / 'out.pth')
