"""mmrrsis: referring remote sensing image segmentation for OpenMMLab.

Importing the package checks the installed mmengine, mmcv and mmseg
versions and applies the compatibility fixes of :mod:`mmrrsis.compat`
(mmcv-lite, checkpoint loading under torch >= 2.6) before anything imports
mmseg's models.
"""
from .compat import apply_all as _apply_compat
from .version import __version__, version_info

_apply_compat()

__all__ = ['__version__', 'version_info']
