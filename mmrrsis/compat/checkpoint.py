"""Load local checkpoints under torch >= 2.6.

torch 2.6 changed the default of ``torch.load`` to ``weights_only=True``.
mmengine 0.10.x calls ``torch.load(filename, map_location=...)`` without the
argument, and an mmengine checkpoint holds more than tensors (the message
hub's ``HistoryBuffer``, numpy scalars, the config's meta), so loading one,
``--resume`` and ``init_model`` all fail with ``UnpicklingError``.

This module is the one place where mmrrsis fixes that: it registers a loader
for local paths (mmengine's ``CheckpointLoader`` scheme ``''``) that passes
``weights_only=False``. Full unpickling is only safe for files you trust,
which is what a local checkpoint that you trained or downloaded yourself is;
remote schemes (``http://``, ``s3://``, ...) keep mmengine's behaviour.
``import mmrrsis`` registers it.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def load_local_checkpoint(filename: str, map_location=None):
    """Load a trusted local checkpoint file with full unpickling.

    Args:
        filename (str): Path of the checkpoint; ``~`` is expanded.
        map_location (str | torch.device | callable, optional): As in
            :func:`torch.load`. Defaults to None.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_checkpoint_loader() -> None:
    """Make mmengine use :func:`load_local_checkpoint` for local paths."""
    CheckpointLoader.register_scheme(prefixes='', force=True)(
        load_local_checkpoint)
