"""What the converters share: saved arguments as plain data, config
requirements and their check, the atomic weights-only output."""
import argparse
import os

import pytest
import torch

from mmrrsis.models.converters import (
    ConfigRequirementError,
    ConvertedState,
    check_config_requirements,
    parse_reference_args,
    reference_args,
    requirement,
    save_converted,
)


def test_reference_args_are_plain_and_given_ones_win():
    checkpoint = dict(args=argparse.Namespace(
        mha='2-2-2-2', lr=5e-5, window12=True, sizes=(1, 2), other=object))
    args = reference_args(checkpoint, dict(mha='1-1-1-1'))
    assert args['mha'] == '1-1-1-1' and args['window12'] is True
    assert args['sizes'] == [1, 2] and isinstance(args['other'], str)
    assert reference_args(dict(args=dict(a=1))) == dict(a=1)  # a vars dict
    assert reference_args({'model': {}}) == {}
    assert parse_reference_args(['mha=2-2-4-8', 'x=']) == dict(
        mha='2-2-4-8', x='')
    with pytest.raises(ValueError, match='KEY=VALUE'):
        parse_reference_args(['mha'])


def test_requirements_compare_per_stage_and_defaults():
    meta = dict(config_requirements=[
        requirement('model.a.heads', [2, 2], 'trained with --mha 2-2',
                    default=1),
        requirement('model.b', (3, 4), 'some weights'),
    ])
    ok = dict(model=dict(a=dict(heads=[2, 2]), b=[3, 4]))
    check_config_requirements(meta, ok, 'c.pth')
    check_config_requirements(
        dict(config_requirements=[requirement('model.a.heads', [2, 2], 'r')]),
        dict(model=dict(a=dict(heads=2))), 'c.pth')  # one int for all
    with pytest.raises(ConfigRequirementError) as info:
        check_config_requirements(meta, dict(model=dict(a={})), 'c.pth')
    message = str(info.value)
    assert 'model.a.heads must be [2, 2] (trained with --mha 2-2); the ' \
        'config has 1' in message
    assert 'model.b must be [3, 4] (some weights); the config has None' in \
        message
    assert '--cfg-options model.a.heads=[2,2] model.b=[3,4]' in message
    check_config_requirements({}, {}, 'no requirements')
    check_config_requirements(None, {}, 'no meta')


def test_save_converted_atomic_and_weights_only(tmp_path):
    state = ConvertedState(
        {'text_encoder.w': torch.ones(2)},
        meta=dict(reference_args=dict(mha=''),
                  config_requirements=[requirement('model.x', 1, 'r')]))
    dst = tmp_path / 'out' / 'converted.pth'
    save_converted(state, str(dst), 'lavt.pth')
    saved = torch.load(dst, weights_only=True)
    assert saved['meta']['converted_from'] == 'lavt.pth'
    assert saved['meta']['config_requirements'][0]['option'] == 'model.x'
    assert torch.equal(saved['state_dict']['text_encoder.w'], torch.ones(2))
    assert os.listdir(tmp_path / 'out') == ['converted.pth']  # no tmp left


def test_converters_without_reference_args_still_run(tmp_path):
    from mmrrsis.models.converters import convert_reference_checkpoint

    def plain(checkpoint, bert_state):
        return {'text_encoder.w': checkpoint['w']}

    src = str(tmp_path / 'src.pth')
    torch.save(dict(w=torch.ones(1)), src)
    dst = str(tmp_path / 'dst.pth')
    assert convert_reference_checkpoint(plain, src, dst) == 1
    with pytest.raises(ValueError, match='reads no reference arguments'):
        convert_reference_checkpoint(plain, src, dst,
                                     reference_args=dict(mha='1-1-1-1'))
