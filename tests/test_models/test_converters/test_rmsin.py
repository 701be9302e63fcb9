"""RMSIN checkpoint conversion: a state dict in RMSIN's key layout (the
key names listed from the reference model, Lsan2401/RMSIN @ b4a9b27) at
tiny shapes converts and loads strictly and computes the same; its saved
LAVT-style arguments become config requirements."""
import argparse
import json

import pytest
import torch
from reference_layouts import (
    REFERENCE_KEYS,
    randomised,
    rmsin_checkpoint,
    tiny_rmsin,
)

from mmrrsis.models.converters import convert_rmsin


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


def test_saved_args_become_requirements():
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    assert checkpoint['args'].model == 'lavt_one'
    checkpoint['args'].mha = '4-4-4-4'
    meta = convert_rmsin(checkpoint).meta
    assert meta['reference_args']['model'] == 'lavt_one'
    options = {r['option']: r['value'] for r in meta['config_requirements']}
    assert options['model.backbone.fusion_cfg.num_heads'] == [4, 4, 4, 4]
    checkpoint['args'] = argparse.Namespace(mha='4-4')
    with pytest.raises(ValueError, match='--mha'):
        convert_rmsin(checkpoint)


def test_unknown_keys_are_named():
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    checkpoint['model']['backbone.cim.block.0.extra.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match='backbone.cim.block.0.extra'):
        convert_rmsin(checkpoint)
