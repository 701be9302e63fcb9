"""mmrrsis: referring remote sensing image segmentation for OpenMMLab.

Importing the package checks the installed mmengine, mmcv and mmseg
versions and lets mmseg import on mmcv-lite (:mod:`mmrrsis.compat`) before
anything imports mmseg's models; it changes nothing else in the process.
"""
from .compat import apply_all as _apply_compat
from .version import __version__, version_info

_apply_compat()

__all__ = ['__version__', 'version_info']
