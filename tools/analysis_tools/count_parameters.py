"""Count a config's parameters (all and trainable, per part) without
building it in memory: on the meta device, offline, in seconds even for
RSRefSeg2's 1.4B::

    python tools/analysis_tools/count_parameters.py \
        configs/rsrefseg2/rsrefseg2_sam2.1-l_siglip2-so400m_b8-600e_\
refsegrs-1024x1024.py

prints, for RSRefSeg2, 1,447,126,199 parameters of which 97,867,223
trainable (LoRA adapters, prompter, SAM 2's decoder, the logit scales).
"""
import argparse
import importlib.util
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope


def count(config: str) -> dict:
    """(all, trainable) of the whole model and of each top-level part."""
    import mmrrsis  # noqa: F401
    from mmrrsis.models.utils.lora import count_parameters
    from mmrrsis.registry import MODELS
    spec = importlib.util.spec_from_file_location(
        'benchmark_expressions',
        osp.join(osp.dirname(__file__), 'benchmark_expressions.py'))
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    cfg = helpers.offline_model_cfg(Config.fromfile(config))
    with DefaultScope.overwrite_default_scope('mmrrsis'), \
            torch.device('meta'):
        model = MODELS.build(cfg)
    counts = {
        name: count_parameters(child)
        for name, child in model.named_children()
        if any(True for _ in child.parameters())
    }
    counts['total'] = count_parameters(model)
    return counts


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    args = parser.parse_args(argv)
    counts = count(args.config)
    width = max(len(k) for k in counts)
    for name, (total, trainable) in counts.items():
        print(f'{name:<{width}}  {total:>15,d}  trainable {trainable:>13,d}')
    return counts


if __name__ == '__main__':
    main()
