"""tools/analysis_tools/count_parameters.py (meta device, offline)."""
import importlib.util
import os.path as osp

import torch
from mmengine import Config
from mmengine.registry import DefaultScope

from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs/tiny/rsrefseg2_tiny_refsegrs-64x64.py')


def test_counts_match_the_built_model(capsys):
    spec = importlib.util.spec_from_file_location(
        'count_parameters',
        osp.join(REPO, 'tools/analysis_tools/count_parameters.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    counts = tool.main([TINY])
    with DefaultScope.overwrite_default_scope('mmrrsis'):
        model = MODELS.build(Config.fromfile(TINY).model.to_dict())
    params = list(model.parameters())
    assert counts['total'] == (sum(p.numel() for p in params),
                               sum(p.numel() for p in params
                                   if p.requires_grad))
    assert counts['prompter'][0] == counts['prompter'][1]
    assert 'trainable' in capsys.readouterr().out
    assert not any(p.is_meta for p in params) and torch.is_tensor(params[0])
