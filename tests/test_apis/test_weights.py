"""Checkpoints for inference and testing: never run code, refuse damaged
values, and every inference entry point goes through these checks."""
import importlib.util
import os.path as osp

import pytest
import torch

from mmrrsis.apis import (
    RRSISInferencer,
    check_weights,
    init_model,
    load_checkpoint_checked,
)
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def tiny_state(ckpt):
    return torch.load(ckpt, weights_only=True)['state_dict']


def test_payload_refused_by_every_inference_entry_point(
        tmp_path, lavt_tiny_ckpt, refsegrs_root, payload_checkpoint):
    evil = payload_checkpoint(
        tmp_path / 'evil.pth', dict(state_dict=tiny_state(lavt_tiny_ckpt)))
    with pytest.raises(UnsafeCheckpointError, match='--unsafe-load'):
        init_model(LAVT_TINY, evil, device='cpu')
    with pytest.raises(UnsafeCheckpointError):
        RRSISInferencer(LAVT_TINY, evil, device='cpu')
    model = init_model(LAVT_TINY, device='cpu')
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_checked(model, evil)
    spec = importlib.util.spec_from_file_location(
        'image_demo', osp.join(ROOT, 'demo', 'image_demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    img = osp.join(refsegrs_root, 'images', '0.tif')
    with pytest.raises(SystemExit, match='Refusing to load'):
        demo.main([img, 'a car', LAVT_TINY, evil, '--out-file',
                   str(tmp_path / 'out.png')])
    assert not payload_checkpoint.marker.exists()
    # the named opt-in loads it (and runs the payload)
    model = init_model(LAVT_TINY, evil, device='cpu', unsafe_load=True)
    assert payload_checkpoint.marker.exists()
    assert torch.equal(model.decode_head.conv_seg.weight,
                       tiny_state(lavt_tiny_ckpt)['decode_head.conv_seg.'
                                                  'weight'])


@pytest.mark.parametrize('bad, found', [
    (float('nan'), 'NaN or Inf'),
    (float('inf'), 'NaN or Inf'),
    (1.97e37, 'values above'),
])
def test_impossible_weights_are_reported(tmp_path, lavt_tiny_ckpt, bad,
                                         found):
    state = tiny_state(lavt_tiny_ckpt)
    key = 'decode_head.conv_seg.weight'
    state[key].view(-1)[3] = bad
    path = str(tmp_path / 'bad.pth')
    torch.save(dict(state_dict=state, meta={}), path)
    with pytest.raises(CorruptCheckpointError) as info:
        init_model(LAVT_TINY, path, device='cpu')
    assert found in str(info.value) and key in str(info.value)
    assert path in str(info.value)
    with pytest.raises(CorruptCheckpointError, match=key):
        RRSISInferencer(LAVT_TINY, path, device='cpu')
    # knowingly loading it is possible through the API
    model = init_model(LAVT_TINY, device='cpu')
    load_checkpoint_checked(model, path, check_values=False)


def test_check_weights_limits():
    ok = {'w': torch.full((3, ), 5e5), 'steps': torch.tensor(10**9)}
    check_weights(ok, 'x.pth')  # integers are counters, not weights
    with pytest.raises(CorruptCheckpointError, match=r'\|w\| up to 5e\+05'):
        check_weights(ok, 'x.pth', max_abs=1e5)
    check_weights({'w': torch.full((2, ), 1e30)}, 'x.pth', max_abs=None)
