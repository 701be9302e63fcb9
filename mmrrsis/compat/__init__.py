"""Fixes that let mmrrsis run on the package versions it pins.

Each module fixes one known incompatibility, in one place, and is applied by
``import mmrrsis`` (see :func:`apply_all`):

- :mod:`.version_check`: refuse unsupported mmengine/mmcv/mmseg versions
  with a clear message;
- :mod:`.mmcv_ops`: let mmseg import on mmcv-lite (no compiled ops);
- :mod:`.checkpoint`: load local mmengine checkpoints under torch >= 2.6.

These modules import only mmengine and the standard library, so they can run
before mmseg's models are imported.
"""
from .checkpoint import load_local_checkpoint, register_checkpoint_loader
from .mmcv_ops import (
    MissingMMCVOpsError,
    has_compiled_ops,
    is_patched,
    patch_mmcv_ops,
)
from .version_check import (
    SUPPORTED_RANGES,
    check_dependencies,
    check_version,
    installed_version,
)


def apply_all() -> None:
    """Check versions, then apply every fix (idempotent)."""
    check_dependencies()
    patch_mmcv_ops()
    register_checkpoint_loader()


__all__ = [
    'apply_all', 'load_local_checkpoint', 'register_checkpoint_loader',
    'MissingMMCVOpsError', 'has_compiled_ops', 'is_patched',
    'patch_mmcv_ops', 'SUPPORTED_RANGES', 'check_dependencies',
    'check_version', 'installed_version'
]
