"""DiCoR checkpoint conversion: files in DiCoR's key layout (the key names
and shapes of its modules at tiny sizes, tests/data/models/dicor_keys.json,
whose names are those of the full-size files) convert and load strictly;
the saved arguments are checked against the config; the CLI reads weights
only."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.compat import load_checkpoint_file
from mmrrsis.models.converters import (
    ConfigRequirementError,
    DiCoRConversionError,
    check_config_requirements,
    check_expected_cfg,
    check_loads_into,
    checkpoint_kind,
    convert_dicor,
    dicor_expected_cfg,
)
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
with open(osp.join(REPO, 'tests', 'data', 'models', 'dicor_keys.json')) as f:
    LAYOUT = json.load(f)
SIZES = LAYOUT['sizes']
# what DiCoR's train scripts save in 'args' (vars(args)), RefSegRS run
ARGS = dict(
    dataset='refsegrs', swin_type='base', num_tmem=2, num_heads_fusion=1,
    window12=True, img_size=480, ck_bert='bert-base-uncased', lr=3e-5,
    pretrained_swin_weights='./pretrained_weights/'
    'swin_base_patch4_window12_384_22k.pth')


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def reference_state(stage, seed=0):
    """Random tensors under DiCoR's names and shapes for one file."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in LAYOUT[stage]:
        if name.endswith(('num_batches_tracked', 'position_ids',
                          'relative_position_index')):
            state[name] = torch.zeros(shape, dtype=torch.long)
        else:
            state[name] = torch.randn(shape, generator=gen)
    return state


def model_cfg(full: bool):
    """Our model at the fixture's sizes (the tiny configs' layout with
    BERT's 768-wide words, which DiCoR's modules fix)."""
    name = 'dicor_swin-tiny' if full else 'dicor-coarse_swin-tiny'
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tiny', f'{name}_refsegrs-64x64.py'))
    model = cfg.model
    model.text_encoder.bert_config = dict(
        SIZES['bert'], intermediate_size=SIZES['bert']['intermediate_size'])
    model.backbone.update(window_size=SIZES['window'],
                          fusion_cfg=dict(text_channels=768))
    model.neck.update(num_blocks=SIZES['vmsf_blocks'])
    model.decode_head.channels = SIZES['decoder_hidden']
    if full:
        model.neck.text_channels = 768
        guide = SIZES['guide']
        model.localization_guide.update(
            text_channels=768, in_channels=guide['in_channels'],
            evidence_channels=guide['evidence'],
            query_channels=guide['query'], route_channels=guide['route'],
            geometry_channels=guide['geometry'])
        model.refiner.update(base_channels=SIZES['refiner_base'],
                             init_cfg=None)
    return cfg


def build(cfg):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg.model)


def load_strict(model, state):
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith('position_ids')]
    assert not missing and not unexpected, (missing[:5], unexpected[:5])


def test_fixture_matches_the_full_size_key_names():
    assert len(LAYOUT['refiner']) == 118 and len(LAYOUT['guide_adapter']) == 38
    joint = {k for k, _ in LAYOUT['joint']}
    coarse = {k for k, _ in LAYOUT['coarse']}
    # the joint file adds LVMSF's and the guide's keys; the coarse VMSF
    # self-attention keys (12 a block) are not in it
    assert len(joint - coarse) == 40 * SIZES['vmsf_blocks'] + 38
    assert len(coarse - joint) == 12 * SIZES['vmsf_blocks']


def test_coarse_file_converts_and_loads_strictly():
    state = reference_state('coarse')
    checkpoint = dict(model=state, args=ARGS, epoch=3)
    assert checkpoint_kind(checkpoint) == 'model'
    converted = convert_dicor(checkpoint)
    model = build(model_cfg(full=False))
    load_strict(model, converted)
    # PWAM 1x1 convs -> linear layers; VMSF and its gates; the decoder
    sd = model.state_dict()
    torch.testing.assert_close(
        sd['backbone.fusion.pwams.1.key_proj.weight'],
        state['backbone.layers.1.fusion_global.image_lang_att.f_key.0.weight']
        [..., 0])
    torch.testing.assert_close(
        sd['neck.blocks.1.ffn.layers.1.weight'],
        state['backbone.VMSF.blocks.1.ffn.net.3.weight'])
    torch.testing.assert_close(
        sd['neck.gates.2.act_bn.running_var'],
        state['backbone.VMSF.fusion_gates.2.bn3.running_var'])
    torch.testing.assert_close(sd['decode_head.conv_seg.weight'],
                               state['classifier.conv1_1.weight'])


def test_joint_plus_refiner_is_the_full_model():
    joint = reference_state('joint', seed=1)
    refiner = reference_state('refiner', seed=2)
    converted = convert_dicor(dict(model=joint, args=ARGS), refiner=refiner)
    model = build(model_cfg(full=True))
    load_strict(model, converted)
    sd = model.state_dict()
    torch.testing.assert_close(
        sd['neck.blocks.0.text_attn.k_proj_weight'],
        joint['backbone.VMSF.blocks.0.l2v.k_proj_weight'])
    torch.testing.assert_close(
        sd['neck.blocks.1.self_attn.attn.in_proj_weight'],
        joint['backbone.VMSF.blocks.1.ms_attn.attn.in_proj_weight'])
    torch.testing.assert_close(
        sd['localization_guide.ranker.route_score.2.weight'],
        joint['backbone.localization_guidance.module.ranker.router.'
              'score_mlp.2.weight'])
    torch.testing.assert_close(sd['refiner.decoders.0.1.bn.weight'],
                               refiner['up4.conv2.bn.weight'])
    torch.testing.assert_close(sd['refiner.ups.3.weight'],
                               refiner['up1.up.weight'])
    # a guide adapter file replaces the joint file's guide
    adapter = reference_state('guide_adapter', seed=3)
    assert checkpoint_kind(adapter) == 'guide'
    with_guide = convert_dicor(dict(model=joint), guide=adapter)
    torch.testing.assert_close(
        with_guide['localization_guide.text_norm.weight'],
        adapter['text_norm.weight'])
    # the adapter's module alone (no 'module.' prefix) also reads
    bare = {k[len('module.'):]: v for k, v in adapter.items()
            if k.startswith('module.')}
    assert checkpoint_kind(bare) == 'guide'


def test_unknown_keys_and_files_are_refused():
    state = reference_state('coarse')
    state['backbone.VMSF.extra.weight'] = torch.zeros(1)
    with pytest.raises(DiCoRConversionError, match='VMSF.extra'):
        convert_dicor(dict(model=state))
    with pytest.raises(DiCoRConversionError, match='Not a DiCoR checkpoint'):
        convert_dicor({'state_dict': {}, 'foo.weight': torch.zeros(1)})


def test_saved_args_are_checked_against_the_config():
    expected = dicor_expected_cfg(ARGS)
    assert expected['model.backbone.window_size'] == 12
    assert expected['model.text_encoder.max_tokens'] == 20
    assert expected['model.neck.num_blocks'] == 2
    full = Config.fromfile(
        osp.join(REPO, 'configs', 'dicor', 'dicor_swin-b_refsegrs-480x480.py'))
    check_expected_cfg(dict(expected, **{'model.neck.num_blocks': 3}), full)
    rrsisd = dicor_expected_cfg(dict(ARGS, dataset='rrsisd', num_tmem=3))
    with pytest.raises(DiCoRConversionError) as info:
        check_expected_cfg(rrsisd, full)
    message = str(info.value)
    assert 'model.text_encoder.max_tokens' in message and '22' in message
    assert '--cfg-options model.text_encoder.max_tokens=22' in message
    window7 = dicor_expected_cfg(
        dict(ARGS, window12=False, pretrained_swin_weights='swin_b.pth'))
    assert window7['model.backbone.window_size'] == 7
    with pytest.raises(DiCoRConversionError, match='swin_type'):
        dicor_expected_cfg(dict(ARGS, swin_type='huge'))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'dicor2mmrrsis',
        osp.join(REPO, 'tools', 'model_converters', 'dicor2mmrrsis.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_cli_writes_meta_and_checks_the_config(tmp_path, capsys):
    joint = str(tmp_path / 'joint_best.pth')
    refiner = str(tmp_path / 'refiner.pth')
    torch.save(dict(model=reference_state('joint', seed=1), args=ARGS,
                    epoch=4, optimizer={}, lr_scheduler={}), joint)
    torch.save(reference_state('refiner', seed=2), refiner)
    out = str(tmp_path / 'out' / 'dicor.pth')
    tool = _tool()
    result = tool.main([joint, out, '--refiner', refiner])
    assert result['kinds'] == ['model', 'refiner']
    saved = load_checkpoint_file(out)
    meta = saved['meta']
    assert meta['expected_cfg']['model.text_encoder.max_tokens'] == 20
    assert meta['reference_args']['dataset'] == 'refsegrs'
    assert meta['converted_from'] == [joint, refiner]
    # every loader checks the saved args (init_model, test.py, load_from)
    options = {r['option']: r['value'] for r in meta['config_requirements']}
    assert options['model.backbone.window_size'] == 12
    assert options['model.text_encoder.max_tokens'] == 20
    with pytest.raises(ConfigRequirementError,
                       match=r'model.text_encoder.max_tokens must be 20'):
        check_config_requirements(
            meta, dict(model=dict(text_encoder=dict(max_tokens=22))), out)
    assert any(k.startswith('refiner.') for k in saved['state_dict'])
    assert 'trained with model.backbone.window_size=12' in \
        capsys.readouterr().out
    # the tiny config is not Swin-B: refused, naming the options
    config_file = str(tmp_path / 'config.py')
    model_cfg(full=True).dump(config_file)
    with pytest.raises(SystemExit) as info:
        tool.main([joint, str(tmp_path / 'x.pth'), '--config', config_file])
    message = str(info.value)
    assert message.startswith('error: ')
    assert '--cfg-options model.backbone.embed_dims=128' in message
    # a file that names code to run is refused without --unsafe-load
    unsafe = str(tmp_path / 'unsafe.pth')
    torch.save(dict(model={}, args=Config(dict(a=1))), unsafe)
    with pytest.raises(SystemExit, match='error: '):
        tool.main([unsafe, str(tmp_path / 'y.pth')])


def test_strict_load_check_names_the_stage_config():
    joint = convert_dicor(dict(model=reference_state('joint')),
                          refiner=reference_state('refiner'))
    check_loads_into(joint, model_cfg(full=True))
    coarse = convert_dicor(dict(model=reference_state('coarse')))
    with pytest.raises(DiCoRConversionError) as info:
        check_loads_into(coarse, model_cfg(full=True))
    assert 'missing' in str(info.value) and 'refiner' in str(info.value)
