"""Walk and edit the parts of a config that tools and APIs change.

The one home for what inference, testing, the data check and the
benchmarks do to a config:

- the dataset configs of the dataloaders, looking through dataset wrappers
  (``dataset=dict(...)``, ``datasets=[...]``): :func:`iter_dataset_cfgs`;
- the pipelines of those datasets (:func:`iter_pipelines`,
  :func:`map_pipelines`) and their steps by type (:func:`find_steps`,
  :func:`drop_steps`);
- every dict of a nested config such as ``cfg.model``
  (:func:`iter_dicts`);
- a component's type name without its registry scope (:func:`type_name`).
"""
from typing import Callable, Iterable, Iterator, List, Sequence, Tuple

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: Pipeline steps that load the ground truth.
ANNOTATION_LOADERS = ('LoadReferringAnnotations', 'LoadAnnotations')
#: Pipeline steps that resize the image.
RESIZES = ('Resize', 'RandomResize')


def type_name(cfg_or_type) -> str:
    """The type of a component config, without its scope.

    Args:
        cfg_or_type (dict | str | type): A config dict (its ``type``), a
            registry name (``'mmrrsis.Resize'``) or a class.

    Returns:
        str: E.g. ``'Resize'``; ``''`` when there is no type.
    """
    kind = cfg_or_type.get('type') if isinstance(cfg_or_type,
                                                 dict) else cfg_or_type
    if isinstance(kind, str):
        return kind.split('.')[-1]
    return getattr(kind, '__name__', '')


def iter_dataset_cfgs(cfg, loaders: Sequence[str] = DATALOADERS
                      ) -> Iterator[Tuple[str, dict]]:
    """Yield every dataset config of the given dataloaders.

    Wrappers come before what they wrap (``dataset=`` and ``datasets=[]``
    are followed), so a caller that edits the first match edits the
    outermost dataset.

    Args:
        cfg (Config | dict): The full config.
        loaders (Sequence[str]): Dataloader keys, in the order wanted.
            Defaults to train, val and test.

    Yields:
        tuple[str, dict]: Where it is (``'val_dataloader.dataset.dataset'``,
        for messages) and the dataset config itself (edits change
        ``cfg``).
    """
    for key in loaders:
        loader = cfg.get(key)
        if not isinstance(loader, dict) or not loader.get('dataset'):
            continue
        stack = [(f'{key}.dataset', loader['dataset'])]
        while stack:
            where, ds = stack.pop(0)
            if not isinstance(ds, dict):
                continue
            yield where, ds
            inner = []
            if isinstance(ds.get('dataset'), dict):
                inner.append((f'{where}.dataset', ds['dataset']))
            for i, sub in enumerate(ds.get('datasets') or []):
                inner.append((f'{where}.datasets[{i}]', sub))
            stack = inner + stack


def iter_pipelines(cfg, loaders: Sequence[str] = DATALOADERS
                   ) -> Iterator[Tuple[str, dict]]:
    """Yield the dataset configs (through wrappers) that have a pipeline.

    Args:
        cfg (Config | dict): The full config.
        loaders (Sequence[str]): Dataloader keys. Defaults to all three.

    Yields:
        tuple[str, dict]: Where, and the dataset config; its
        ``'pipeline'`` is a list of step configs.
    """
    for where, ds in iter_dataset_cfgs(cfg, loaders):
        if ds.get('pipeline') is not None:
            yield where, ds


def map_pipelines(cfg, loaders: Sequence[str],
                  func: Callable[[list], list]) -> int:
    """Replace every pipeline of ``loaders``' datasets by ``func(pipeline)``.

    Args:
        cfg (Config | dict): The full config, changed in place.
        loaders (Sequence[str]): Dataloader keys.
        func (callable): Takes a pipeline (list of step dicts), returns
            the new one.

    Returns:
        int: How many pipelines were replaced.
    """
    count = 0
    for _, ds in list(iter_pipelines(cfg, loaders)):
        ds['pipeline'] = func(list(ds['pipeline']))
        count += 1
    return count


def find_steps(pipeline: Sequence[dict], types: Iterable[str]) -> List[int]:
    """Indices of the steps whose type (without scope) is in ``types``."""
    types = set(types)
    return [i for i, step in enumerate(pipeline) if type_name(step) in types]


def drop_steps(pipeline: Sequence[dict], types: Iterable[str]) -> List[dict]:
    """The pipeline without the steps whose type is in ``types``."""
    drop = set(find_steps(pipeline, types))
    return [step for i, step in enumerate(pipeline) if i not in drop]


def iter_dicts(node) -> Iterator[dict]:
    """Every dict inside a nested config (``node`` itself first).

    Args:
        node (dict | list | tuple | object): E.g. ``cfg.model``.

    Yields:
        dict: Each dict, depth first; edits change the config.
    """
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(list(item)))
