"""The tiny LAVT and LGCE models compute what they computed before the
component contracts were written down (issue 15).

``tests/data/models/reference_outputs.npz`` was written ONCE, by running
this file as a script (``python tests/test_models/test_reference_outputs.py
--write``) on the code of commit 9652cb8, before any model file was
refactored. It holds, per model, the state-dict keys and shapes and the
logits on fixed images and expressions, with every weight set by
:func:`fill_weights` (a function of the key name only, so it does not
depend on the order in which modules are built). Never regenerate it to
make this test pass: a difference means the refactor changed a function or
a key.
"""
import json
import math
import os.path as osp
import sys
import zlib

import numpy as np
import pytest
import torch

FIXTURE = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'models',
    'reference_outputs.npz')
MODELS = ('lavt_swin-tiny', 'lgce_swin-tiny', 'lgce-rsfm_swin-tiny')
# the third is longer than 18 word pieces: the default truncation keeps
# [SEP] (a test of the tokenisation path too)
TEXTS = ('the white car parked on the left side of the road',
         'building along the road',
         'the long grey truck with a trailer driving on the second lane of '
         'the highway next to the small bus near the bridge')


def tiny_cfg(name, model_cfg):
    """The model config of ``name`` (the rsfm layout on the tiny LGCE)."""
    if name != 'lgce-rsfm_swin-tiny':
        return model_cfg(name)
    cfg = model_cfg('lgce_swin-tiny')
    cfg['neck'] = dict(
        type='LGCERSFMNeck',
        in_channels=[32, 64, 128, 256],
        text_channels=32,
        num_heads=(4, 8),
        unused_patch_embed=True)
    return cfg


def fill_weights(model):
    """Set every floating-point tensor of the state dict from its name.

    Weights with two or more dimensions get ``N(0, 1 / fan_in)``, 1-D
    weights ``1 + N(0, 0.1^2)``, biases and running means
    ``N(0, 0.1^2)``, running variances ``1 + U(0, 0.1)``; integer buffers
    are left alone.
    """
    state = model.state_dict()
    with torch.no_grad():
        for key in sorted(state):
            value = state[key]
            if not value.is_floating_point():
                continue
            gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
            noise = torch.randn(value.shape, generator=gen)
            if key.endswith('running_var'):
                new = 1 + 0.1 * torch.rand(value.shape, generator=gen)
            elif value.dim() >= 2:
                fan_in = math.prod(value.shape[1:])
                new = noise / math.sqrt(fan_in)
            elif key.endswith('weight'):
                new = 1 + 0.1 * noise
            else:
                new = 0.1 * noise
            value.copy_(new)


def reference_run(name, model_cfg, build_model, make_samples):
    """Keys, shapes, parameter count and logits of one tiny model."""
    model = build_model(tiny_cfg(name, model_cfg))
    fill_weights(model)
    model.eval()
    gen = torch.Generator().manual_seed(7)
    inputs = torch.randn(len(TEXTS), 3, 64, 64, generator=gen)
    samples = make_samples(TEXTS, with_gt=False)
    with torch.no_grad():
        logits = model._forward(inputs, samples)
    shapes = {k: list(v.shape) for k, v in model.state_dict().items()}
    return dict(
        shapes=shapes,
        params=sum(p.numel() for p in model.parameters()),
        logits=logits.numpy())


@pytest.mark.parametrize('name', MODELS)
def test_same_keys_and_outputs_as_before_the_refactor(name, helpers):
    fixture = np.load(FIXTURE, allow_pickle=False)
    run = reference_run(name, helpers.model_cfg, helpers.build_model,
                        helpers.make_samples)
    shapes = json.loads(str(fixture[f'{name}/shapes']))
    assert run['shapes'] == shapes
    assert run['params'] == int(fixture[f'{name}/params'])
    expected = torch.from_numpy(fixture[f'{name}/logits'])
    assert expected.shape == (3, 2, 16, 16)
    torch.testing.assert_close(
        torch.from_numpy(run['logits']), expected, rtol=1e-4, atol=1e-5)


def write_fixture():  # pragma: no cover - run once, see the docstring
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from conftest import build_model, make_samples, model_cfg
    from mmengine.registry import init_default_scope
    init_default_scope('mmrrsis')
    torch.set_num_threads(1)
    arrays = {}
    for name in MODELS:
        run = reference_run(name, model_cfg, build_model, make_samples)
        arrays[f'{name}/shapes'] = np.array(json.dumps(run['shapes']))
        arrays[f'{name}/params'] = np.array(run['params'])
        arrays[f'{name}/logits'] = run['logits']
        print(name, run['params'], run['logits'].std())
    np.savez_compressed(FIXTURE, **arrays)


if __name__ == '__main__':  # pragma: no cover
    if '--write' in sys.argv:
        write_fixture()
