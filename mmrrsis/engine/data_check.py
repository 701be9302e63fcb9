"""Fail fast when a config's dataset folder is not on disk.

mmengine's Runner builds the model (downloading or loading pretrained
weights, minutes for Swin-B + BERT) before it looks at the data, so a user
who runs a headline config without having downloaded the dataset only
learns it later, from a traceback deep inside the dataset. The runner calls
:func:`check_data_roots` first.

A dataset class takes part by defining two class attributes:

- ``DATA_HINT`` (str): how to obtain the data (where to download it, how to
  unpack it, which config runs on generated data instead);
- ``generates_missing_data`` (bool, optional): True for datasets that create
  their data when it is missing (the generated RefSegRS-layout sets); those
  are not checked.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from mmrrsis.registry import DATASETS
from mmrrsis.utils.config_utils import iter_dataset_cfgs


class DataNotFoundError(FileNotFoundError):
    """A dataset folder named by the config does not exist."""


def _missing_root(ds: dict) -> Optional[str]:
    root = ds.get('data_root')
    if not root:
        return None
    return None if osp.isdir(root) else root


def check_data_roots(cfg: Config) -> None:
    """Raise :class:`FileNotFoundError` when a dataset root is missing.

    Args:
        cfg (Config): The full config (``*_dataloader.dataset`` are read).

    Raises:
        DataNotFoundError: (a ``FileNotFoundError``) Names the config key,
            the expected folder (also as an absolute path) and the
            dataset's ``DATA_HINT``.
    """
    for where, ds in iter_dataset_cfgs(cfg):
        type_name = ds.get('type')
        if not isinstance(type_name, str):
            continue
        cls = DATASETS.get(type_name)
        if cls is None or not hasattr(cls, 'DATA_HINT'):
            continue
        if getattr(cls, 'generates_missing_data', False):
            continue
        root = _missing_root(ds)
        if root is None:
            continue
        raise DataNotFoundError(
            f'The {type_name} data is not on disk: {where}.data_root is '
            f'"{root}" ({osp.abspath(root)}), which does not exist.\n'
            f'{cls.DATA_HINT}\n'
            f'Or point the config at your copy: --cfg-options '
            f'{where}.data_root=/path/to/data (and the same for the other '
            'dataloaders).')
