"""Checkpoints in the reference layouts of LAVT (yz93/LAVT-RIS) and RMSIN
(Lsan2401/RMSIN), written from our tiny models' weights with the
references' module names (a helper of the converter tests, not a test)."""
import argparse
import os.path as osp
import re

import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
# the reference's state-dict keys (backbone + classifier) at depths
# (1, 1, 1, 1), as printed by RMSIN's own modules
REFERENCE_KEYS = osp.join(REPO, 'tests', 'data', 'models', 'rmsin_keys.json')


def tiny_lavt(seed=0, fusion=None):
    """The tiny LAVT (``fusion``: changes of its ``fusion_cfg``)."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'lavt_swin-tiny.py'))
    cfg.model.backbone.fusion_cfg.update(fusion or {})
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


def tiny_rmsin(seed=0):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'tiny', 'rmsin_swin-tiny_refsegrs-64x64.py'))
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        return MODELS.build(cfg.model).eval()


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
] + OURS_TO_LAVT + [
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
            value = to_lavt_order(value)
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


