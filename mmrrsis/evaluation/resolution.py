"""Set the resolution at which a config scores its predictions.

:class:`~mmrrsis.evaluation.RRSISMetric` scores at the ``'original'`` mask
resolution or at the ``'network'`` input resolution (the reference code's
480x480), and each needs its own test pipeline order:

- ``'original'``: the referring mask is loaded *after* ``Resize``, so it
  keeps its original size;
- ``'network'``: the mask is loaded *before* ``Resize``, which resizes it
  (nearest) with the image, and ``AdoptNetworkSize`` after ``Resize``
  makes the resized size the sample's original, so the logits are
  arg-maxed at the network's size as in the reference code.

:func:`set_eval_resolution` changes both the evaluators and the pipelines
of a config, so they stay consistent (``tools/test.py --resolution``).
"""
from typing import List

from mmrrsis.utils.config_utils import (
    ANNOTATION_LOADERS,
    RESIZES,
    find_steps,
    map_pipelines,
    type_name,
)

NETWORK_SIZE = 'AdoptNetworkSize'


def reorder_pipeline(pipeline: List[dict], resolution: str) -> List[dict]:
    """Move the mask loader after (original) or before (network) resizing.

    Args:
        pipeline (list[dict]): A test pipeline config.
        resolution (str): ``'original'`` or ``'network'``.

    Returns:
        list[dict]: The reordered pipeline (a new list; unchanged when it has
        no mask loader or no resize).
    """
    if resolution not in ('original', 'network'):
        raise ValueError("resolution must be 'original' or 'network', got "
                         f'{resolution!r}')
    steps = list(pipeline)
    loaders = find_steps(steps, ANNOTATION_LOADERS)
    if not loaders or not find_steps(steps, RESIZES):
        return steps
    for index in reversed(find_steps(steps, (NETWORK_SIZE, ))):
        steps.pop(index)
    loader = steps.pop(loaders[0])
    resizes = find_steps(steps, RESIZES)
    if resolution == 'network':
        steps.insert(resizes[-1] + 1, dict(type=NETWORK_SIZE))
    index = resizes[-1] + 1 if resolution == 'original' else resizes[0]
    steps.insert(index, loader)
    return steps


def _evaluators(evaluator) -> list:
    if evaluator is None:
        return []
    if isinstance(evaluator, dict):
        if 'metrics' in evaluator:  # Evaluator(metrics=[...])
            return _evaluators(evaluator['metrics'])
        return [evaluator]
    return [m for e in evaluator for m in _evaluators(e)]


def set_eval_resolution(cfg, resolution: str) -> None:
    """Score ``cfg``'s validation and test at ``resolution``.

    Sets ``resolution`` of every ``RRSISMetric`` in ``val_evaluator`` and
    ``test_evaluator`` and reorders the val/test pipelines accordingly
    (:func:`reorder_pipeline`), in place.

    Args:
        cfg (Config): The config.
        resolution (str): ``'original'`` or ``'network'``.
    """
    for name in ('val_evaluator', 'test_evaluator'):
        for metric in _evaluators(cfg.get(name)):
            if type_name(metric) == 'RRSISMetric':
                metric['resolution'] = resolution
    map_pipelines(cfg, ('val_dataloader', 'test_dataloader'),
                  lambda pipeline: reorder_pipeline(pipeline, resolution))
