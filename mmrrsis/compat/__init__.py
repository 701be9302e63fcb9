"""Fixes that let mmrrsis run on the package versions it supports.

Each module fixes one known incompatibility, in one place:

- :mod:`.version_check`: refuse unsupported mmengine/mmcv/mmseg versions
  with a clear message (the ranges are read from ``requirements/``);
- :mod:`.mmcv_ops`: let mmseg import on mmcv-lite (no compiled ops);
- :mod:`.mmpretrain_multimodal`: let mmpretrain's models import beside
  transformers 4.5x (its BLIP code imports names transformers moved),
  applied when ``mmpretrain.models`` is first imported;
- :mod:`.checkpoint`: read checkpoints under torch >= 2.6 without running
  code from them (``weights_only=True`` plus a small allowlist, scoped to
  mmrrsis's own loading calls; nothing global).

``import mmrrsis`` applies the first three (see :func:`apply_all`). These
modules import only torch, mmengine and the standard library, so they can
run before mmseg's models are imported.
"""
from .mmcv_ops import (
    MissingMMCVOpsError,
    has_compiled_ops,
    is_patched,
    patch_mmcv_ops,
)
from .mmpretrain_multimodal import (
    disable_broken_multimodal,
    install_mmpretrain_hook,
)
from .safe_load import (
    REFERENCE_GLOBALS,
    SAFE_GLOBALS,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    check_zip_integrity,
    load_checkpoint_file,
)
from .version_check import (
    check_dependencies,
    check_version,
    installed_version,
    supported_ranges,
)


def apply_all() -> None:
    """Check versions, then apply every fix (idempotent)."""
    check_dependencies()
    patch_mmcv_ops()
    install_mmpretrain_hook()


__all__ = [
    'apply_all', 'REFERENCE_GLOBALS', 'SAFE_GLOBALS',
    'CorruptCheckpointError', 'UnsafeCheckpointError', 'check_zip_integrity',
    'load_checkpoint_file', 'MissingMMCVOpsError', 'has_compiled_ops',
    'is_patched', 'patch_mmcv_ops', 'disable_broken_multimodal',
    'install_mmpretrain_hook',
    'check_dependencies', 'check_version',
    'installed_version', 'supported_ranges'
]
