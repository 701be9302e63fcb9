"""tools/analysis_tools/get_flops.py on the tiny configs."""
import importlib.util
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.analysis import FlopAnalyzer


def load_tool(helpers):
    spec = importlib.util.spec_from_file_location(
        'get_flops',
        osp.join(helpers.repo, 'tools', 'analysis_tools', 'get_flops.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


class _SDPA(torch.nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def test_sdpa_flops_are_counted(helpers):
    tool = load_tool(helpers)
    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), torch.randn(
        2, 4, 7, 6)
    analyzer = FlopAnalyzer(_SDPA(), (q, k, v))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           tool.sdpa_flop_handle)
    assert analyzer.total() == 2 * 4 * 5 * 7 * (8 + 6)


def test_get_flops_on_tiny_configs(helpers, capsys):
    tool = load_tool(helpers)
    results = {}
    for name in ('lavt', 'lgce'):
        config = osp.join(helpers.configs, 'tiny',
                          f'{name}_swin-tiny_refsegrs-64x64.py')
        results[name] = tool.main([config, '--shape', '64'])
    out = capsys.readouterr().out
    assert 'GFLOPs' in out and 'neck overhead' in out
    lavt, lgce = results['lavt'], results['lgce']
    model = helpers.build_model(helpers.model_cfg('lgce_swin-tiny'))
    assert lgce['params'] == sum(p.numel() for p in model.parameters())
    neck_params, neck_flops = lgce['parts']['neck']
    assert lgce['params'] - lavt['params'] == neck_params > 0
    assert lgce['flops'] - lavt['flops'] == neck_flops > 0
    for part in ('text_encoder', 'backbone', 'backbone.fusion',
                 'decode_head'):
        assert lavt['parts'][part] == lgce['parts'][part]
        assert lavt['parts'][part][1] > 0


def test_get_flops_on_tiny_rmsin(helpers):
    tool = load_tool(helpers)
    result = tool.main([
        osp.join(helpers.configs, 'tiny', 'rmsin_swin-tiny_refsegrs-64x64.py'),
        '--shape', '64'
    ])
    model = helpers.build_model(
        helpers.leaf_model_cfg('tiny/rmsin_swin-tiny_refsegrs-64x64.py'))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    # the CIM neck and the rotated convolutions (grouped over the batch)
    # are counted
    assert result['parts']['neck'][1] > 0
    head = result['parts']['decode_head'][1]
    lavt = tool.count(
        osp.join(helpers.configs, 'tiny', 'lavt_swin-tiny_refsegrs-64x64.py'),
        (64, 64))
    assert head > lavt['parts']['decode_head'][1]


def test_get_flops_on_tiny_lscm_and_cmpc(helpers):
    """The word-LSTM encoders build through their offline_cfg; LSCM's
    dummy expression gets a rule parse."""
    tool = load_tool(helpers)
    for name in ('lscm', 'cmpc+'):
        leaf = f'tiny/{name}_r18-tiny_refsegrs-64x64.py'
        result = tool.main([
            osp.join(helpers.configs, leaf), '--shape', '64',
            '--offline-text-encoder'
        ])
        model = helpers.build_model(helpers.leaf_model_cfg(leaf))
        assert result['params'] == sum(p.numel() for p in model.parameters())
        assert result['parts']['decode_head'][1] > 0
        assert result['parts']['backbone'][1] > 0


def test_get_flops_on_tiny_fianet(helpers):
    """The dummy expression's phrase positions come from the config's test
    pipeline (the encoder's meta_keys); the three BERT passes and the TMEM
    neck are counted."""
    tool = load_tool(helpers)
    config = osp.join(helpers.configs, 'tiny',
                      'fianet_swin-tiny_refsegrs-64x64.py')
    result = tool.main([config, '--shape', '64'])
    model = helpers.build_model(
        helpers.leaf_model_cfg('tiny/fianet_swin-tiny_refsegrs-64x64.py'))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    assert result['parts']['neck'][1] > 0
    lavt = tool.count(
        osp.join(helpers.configs, 'tiny', 'lavt_swin-tiny_refsegrs-64x64.py'),
        (64, 64))
    # BERT runs three times on the same ids
    assert result['parts']['text_encoder'][1] == \
        3 * lavt['parts']['text_encoder'][1]


def test_get_flops_on_mmpretrain_backbones(helpers):
    """LAVT on mmpretrain's ConvNeXt (tiny twin): the encoder and the
    fusion between its stages are counted."""
    tool = load_tool(helpers)
    name = 'tiny/lavt_convnext-tiny_refsegrs-64x64.py'
    result = tool.main([osp.join(helpers.configs, name), '--shape', '64'])
    model = helpers.build_model(helpers.leaf_model_cfg(name))
    assert result['params'] == sum(p.numel() for p in model.parameters())
    fusion_params, fusion_flops = result['parts']['backbone.fusion']
    assert fusion_params == sum(
        p.numel() for p in model.backbone.fusion.parameters())
    assert fusion_flops > 0
    assert result['parts']['backbone'][1] > fusion_flops


def test_fused_multi_head_attention_flops_are_counted(helpers):
    """nn.MultiheadAttention in eval mode runs one fused op; counted as its
    projections and attention products (what the training path counts)."""
    tool = load_tool(helpers)
    attn = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()

    class SelfAttention(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.attn = attn

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    x = torch.randn(2, 9, 16)
    with torch.no_grad():
        analyzer = FlopAnalyzer(SelfAttention().eval(), (x, ))
        analyzer.set_op_handle('aten::_native_multi_head_attention',
                               tool.mha_flop_handle)
        fused = analyzer.total()
    analyzer = FlopAnalyzer(SelfAttention().train(), (x, ))
    analyzer.set_op_handle('aten::scaled_dot_product_attention',
                           tool.sdpa_flop_handle)
    assert fused == analyzer.total() == 2 * (4 * 9 * 16 * 16 + 2 * 9 * 9 *
                                             16)


def test_get_flops_on_tiny_dicor(helpers):
    """The full DiCoR (guide, LVMSF, refiner) traces; the refiner's
    convolutions at the input size are counted."""
    tool = load_tool(helpers)
    path = 'tiny/dicor_swin-tiny_refsegrs-64x64.py'
    result = tool.main([osp.join(helpers.configs, path), '--shape', '64'])
    cfg = helpers.leaf_model_cfg(path)
    cfg['refiner']['init_cfg'] = None
    model = helpers.build_model(cfg)
    assert result['params'] == sum(p.numel() for p in model.parameters())
    for part in ('localization_guide', 'refiner', 'neck'):
        assert result['parts'][part][0] > 0
    assert result['parts']['refiner'][1] > 0
    assert result['parts']['localization_guide'][1] > 0
