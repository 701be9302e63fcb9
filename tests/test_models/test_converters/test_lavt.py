"""LAVT checkpoint conversion: key renames, patch-merging channel order,
strict loading into the tiny LAVT model, and LAVT's saved arguments
(``--mha``, ``--swin_type``, the window) as config requirements."""
import argparse

import pytest
import torch
import torch.nn.functional as F
from mmseg.structures import SegDataSample
from reference_layouts import (
    lavt_checkpoint,
    lavt_patch_merging,
    lavt_relative_position_index,
    tiny_lavt,
    to_lavt_order,
)

from mmrrsis.models.converters import (
    check_config_requirements,
    convert_lavt,
    parse_mha,
    patch_merging_order,
)


def test_patch_merging_order_matches_original_swin():
    # imported after mmrrsis, which lets mmseg import on mmcv-lite
    from mmseg.models.utils.embed import PatchMerging

    torch.manual_seed(0)
    C = 8
    norm, reduction = torch.nn.LayerNorm(4 * C), torch.nn.Linear(
        4 * C, 2 * C, bias=False)
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    merging = PatchMerging(C, 2 * C)
    merging.norm.weight.data = patch_merging_order(norm.weight.data)
    merging.norm.bias.data = patch_merging_order(norm.bias.data)
    merging.reduction.weight.data = patch_merging_order(
        reduction.weight.data)
    x = torch.randn(2, 6 * 4, C)
    ours, hw = merging(x, (6, 4))
    assert hw == (3, 2)
    torch.testing.assert_close(
        ours, lavt_patch_merging(x, (6, 4), norm, reduction))
    torch.testing.assert_close(
        to_lavt_order(patch_merging_order(reduction.weight)),
        reduction.weight)


def test_relative_position_index_is_lavts():
    model = tiny_lavt()
    index = model.backbone.stages[0].blocks[0].attn.w_msa.\
        relative_position_index
    torch.testing.assert_close(index, lavt_relative_position_index(4))


def _logits(model, text='a car'):
    sample = SegDataSample(metainfo=dict(
        text=text, img_shape=(64, 64), ori_shape=(64, 64)))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return model.eval()._forward(x, [sample])


@pytest.mark.parametrize('bert_inside', [False, True])
def test_converted_checkpoint_loads_strictly(bert_inside):
    source = tiny_lavt(seed=1)
    for gate in source.backbone.fusion.gates:  # non-trivial values
        torch.nn.init.normal_(gate[0].weight)
    checkpoint = lavt_checkpoint(source, bert_inside)
    if not bert_inside:
        assert 'backbone.layers.0.fusion.image_lang_att.W.0.weight' in \
            checkpoint['model']
        assert checkpoint['model'][
            'backbone.layers.1.fusion.vis_project.0.weight'].dim() == 3
        assert 'classifier.bn2_3.running_var' in checkpoint['model']
    converted = convert_lavt(checkpoint)
    target = tiny_lavt(seed=2)
    target.load_state_dict(converted, strict=True)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)
    # and the converted model computes what the source computes
    torch.testing.assert_close(_logits(target), _logits(source))


def test_separate_bert_state_and_unknown_keys():
    source = tiny_lavt()
    checkpoint = lavt_checkpoint(source)
    bert = checkpoint.pop('bert_model')
    converted = convert_lavt(checkpoint['model'], bert_state=bert)
    tiny_lavt().load_state_dict(converted, strict=True)
    without_bert = convert_lavt(checkpoint['model'])
    assert not any(k.startswith('text_encoder') for k in without_bert)
    bad = dict(checkpoint['model'], **{'backbone.layers.0.extra': F.pad})
    with pytest.raises(KeyError, match='backbone.layers.0.extra'):
        convert_lavt(bad)


def _tiny_cfg(**fusion):
    from mmengine import Config
    from reference_layouts import REPO
    cfg = Config.fromfile(
        f'{REPO}/configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
    cfg.model.backbone.fusion_cfg.update(fusion)
    return cfg


def test_mha_checkpoint_needs_its_heads():
    """The probe of issue 20: weights trained with --mha 2-2-4-8 have the
    shapes of the 1-head model and, loaded into it, compute something
    else; the conversion records the heads and the 1-head config is
    refused, naming the option."""
    torch.manual_seed(0)
    source = tiny_lavt(seed=1, fusion=dict(num_heads=[2, 2, 4, 8]))
    checkpoint = lavt_checkpoint(source)
    checkpoint['args'] = argparse.Namespace(mha='2-2-4-8', fusion_drop=0.,
                                            img_size=64, lr=5e-5)
    converted = convert_lavt(checkpoint)
    one_head = tiny_lavt(seed=2)
    one_head.load_state_dict(converted, strict=True)  # shapes agree...
    difference = (_logits(one_head) - _logits(source)).abs().max()
    assert difference > 1e-3  # ...and the function does not
    meta = converted.meta
    assert meta['reference_args']['mha'] == '2-2-4-8'
    assert meta['reference_args']['img_size'] == 64
    options = {r['option']: r['value'] for r in meta['config_requirements']}
    assert options == {'model.backbone.fusion_cfg.num_heads': [2, 2, 4, 8],
                       'model.backbone.window_size': 4}
    with pytest.raises(ValueError) as info:
        check_config_requirements(meta, _tiny_cfg(), 'lavt.pth')
    message = str(info.value)
    assert 'model.backbone.fusion_cfg.num_heads must be [2, 2, 4, 8]' in \
        message and "--mha '2-2-4-8'" in message and 'lavt.pth' in message
    assert '--cfg-options model.backbone.fusion_cfg.num_heads=[2,2,4,8]' in \
        message
    check_config_requirements(meta, _tiny_cfg(num_heads=[2, 2, 4, 8]), 'x')
    # a 1-head checkpoint fits the default (num_heads=1 or unset)
    plain = convert_lavt(dict(lavt_checkpoint(tiny_lavt()),
                              args=argparse.Namespace(mha='')))
    check_config_requirements(plain.meta, _tiny_cfg(), 'x')
    cfg = _tiny_cfg()
    cfg.model.backbone.fusion_cfg.pop('num_heads')
    check_config_requirements(plain.meta, cfg, 'x')


def test_swin_type_window_and_assumed_defaults():
    checkpoint = lavt_checkpoint(tiny_lavt())
    checkpoint['args'] = argparse.Namespace(mha='', swin_type='base')
    meta = convert_lavt(checkpoint).meta
    options = {r['option']: r['value'] for r in meta['config_requirements']}
    assert options['model.backbone.embed_dims'] == 128
    assert options['model.backbone.depths'] == [2, 2, 18, 2]
    with pytest.raises(ValueError, match='model.backbone.embed_dims must be '
                       '128'):
        check_config_requirements(meta, _tiny_cfg(), 'x')
    checkpoint['args'] = argparse.Namespace(swin_type='huge')
    with pytest.raises(ValueError, match='model.backbone.embed_dims'):
        convert_lavt(checkpoint)
    # no saved args: one head assumed (said), stated args win
    del checkpoint['args']
    meta = convert_lavt(checkpoint).meta
    heads, = [r for r in meta['config_requirements']
              if r['option'].endswith('fusion_cfg.num_heads')]
    assert heads['value'] == [1, 1, 1, 1] and 'assumed' in heads['reason']
    meta = convert_lavt(checkpoint, reference_args=dict(mha='2-2-2-2')).meta
    assert meta['config_requirements'][0]['value'] == [2, 2, 2, 2]


def test_parse_mha():
    assert parse_mha('') == [1, 1, 1, 1]
    assert parse_mha('4-4-4-4') == [4] * 4
    for bad in ('4-4', 'a-b-c-d', '0-1-1-1'):
        with pytest.raises(ValueError, match='fusion_cfg.num_heads'):
            parse_mha(bad)
