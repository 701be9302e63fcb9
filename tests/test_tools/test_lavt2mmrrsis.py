"""LAVT checkpoint conversion: key renames, patch-merging channel order,
strict loading into the tiny LAVT model, and the CLI."""
import argparse
import importlib.util
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from mmengine import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from mmrrsis.models.utils import convert_lavt, patch_merging_order
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: faster, and no contention
    yield
    torch.set_num_threads(threads)


def tiny_lavt(seed=0):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'lavt_swin-tiny.py'))
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg.model)


def lavt_patch_merging(x, hw, norm, reduction):
    """The original Swin's merging: concat (TL, BL, TR, BR), LN, Linear."""
    B, _, C = x.shape
    x = x.view(B, *hw, C)
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2],
                   x[:, 1::2, 1::2]], -1).view(B, -1, 4 * C)
    return reduction(norm(x))


def to_lavt_order(weight):
    """Inverse of patch_merging_order (mmseg -> original Swin order)."""
    lead = weight.shape[:-1]
    inter = weight.reshape(*lead, weight.shape[-1] // 4, 4)
    inter = inter.transpose(-1, -2)[..., [0, 2, 1, 3], :]
    return inter.reshape(weight.shape).contiguous()


def lavt_relative_position_index(window):
    coords = torch.stack(
        torch.meshgrid(torch.arange(window), torch.arange(window),
                       indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel = rel + (window - 1)
    return rel[..., 0] * (2 * window - 1) + rel[..., 1]


# our key pattern -> LAVT key pattern (written from LAVT's module names)
OURS_TO_LAVT = [
    (r'backbone\.patch_embed\.projection\.', 'backbone.patch_embed.proj.'),
    (r'backbone\.stages\.(\d+)\.blocks\.(\d+)\.attn\.w_msa\.',
     r'backbone.layers.\1.blocks.\2.attn.'),
    (r'backbone\.stages\.(\d+)\.blocks\.(\d+)\.ffn\.layers\.0\.0\.',
     r'backbone.layers.\1.blocks.\2.mlp.fc1.'),
    (r'backbone\.stages\.(\d+)\.blocks\.(\d+)\.ffn\.layers\.1\.',
     r'backbone.layers.\1.blocks.\2.mlp.fc2.'),
    (r'backbone\.stages\.(\d+)\.', r'backbone.layers.\1.'),
    (r'backbone\.fusion\.gates\.(\d+)\.', r'backbone.layers.\1.res_gate.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.vis_proj\.0\.',
     r'backbone.layers.\1.fusion.vis_project.0.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.query_proj\.',
     r'backbone.layers.\1.fusion.image_lang_att.f_query.0.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.key_proj\.',
     r'backbone.layers.\1.fusion.image_lang_att.f_key.0.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.value_proj\.',
     r'backbone.layers.\1.fusion.image_lang_att.f_value.0.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.out_proj\.',
     r'backbone.layers.\1.fusion.image_lang_att.W.0.'),
    (r'backbone\.fusion\.pwams\.(\d+)\.fuse_proj\.0\.',
     r'backbone.layers.\1.fusion.project_mm.0.'),
    (r'decode_head\.conv_seg\.', 'classifier.conv1_1.'),
]
DECODER = re.compile(r'decode_head\.fuse_convs\.(\d)\.(\d)\.(conv|bn)\.')


def lavt_checkpoint(model, bert_inside=False):
    """A LAVT-layout checkpoint holding ``model``'s weights."""
    lavt_model, bert = {}, {}
    for key, value in model.state_dict().items():
        if key.startswith('text_encoder.bert.'):
            bert[key[len('text_encoder.bert.'):]] = value.clone()
            continue
        new = key
        match = DECODER.match(key)
        if match:
            step, k, kind = match.groups()
            new = (f'classifier.{kind}{int(k) + 1}_{4 - int(step)}.' +
                   key[match.end():])
        for pattern, repl in OURS_TO_LAVT:
            new, n = re.subn('^' + pattern, repl, new)
            if n:
                break
        if '.downsample.' in new:
            value = to_lavt_order(value)
        elif '.fusion.' in new and new.endswith('weight'):
            value = value.unsqueeze(-1)  # LAVT's Conv1d
        lavt_model[new] = value.clone()
    bert['pooler.dense.weight'] = torch.zeros(32, 32)
    bert['embeddings.position_ids'] = torch.arange(64)[None]
    if bert_inside:
        lavt_model.update({'text_encoder.' + k: v for k, v in bert.items()})
        return {'model': {'module.' + k: v for k, v in lavt_model.items()}}
    return {'model': lavt_model, 'bert_model': bert, 'epoch': 39}


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
    source.eval()
    target.eval()
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(
        text='a car', img_shape=(64, 64), ori_shape=(64, 64)))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            target._forward(x, [sample]), source._forward(x, [sample]))


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


def test_cli(tmp_path):
    spec = importlib.util.spec_from_file_location(
        'lavt2mmrrsis',
        osp.join(REPO, 'tools', 'model_converters', 'lavt2mmrrsis.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    source = tiny_lavt(seed=3)
    src, dst = tmp_path / 'lavt.pth', tmp_path / 'out' / 'mmrrsis.pth'
    checkpoint = lavt_checkpoint(source)
    # what LAVT's train.py saves besides the weights
    checkpoint.update(
        optimizer=torch.optim.AdamW([torch.zeros(1, requires_grad=True)
                                     ]).state_dict(),
        epoch=39,
        args=argparse.Namespace(lr=5e-5, swin_type='base', window12=True),
        lr_scheduler=dict(last_epoch=100, base_lrs=[5e-5]))
    torch.save(checkpoint, src)
    cli.main([str(src), str(dst)])
    target = tiny_lavt(seed=4)
    load_checkpoint(target, str(dst), map_location='cpu', strict=True)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)
