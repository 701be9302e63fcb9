"""Helpers of the doctor's tests (tests/ is on sys.path)."""
from mmengine import Config


def config_on(path, root, **dataset_options):
    """The config at ``path`` with every dataloader's dataset on ``root``
    (and the given dataset options)."""
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.update(data_root=root,
                                                  **dataset_options)
    return cfg


def kinds(items):
    """The sorted (split, kind) pairs of a report's findings."""
    return sorted({(i['split'], i['kind']) for i in items})
