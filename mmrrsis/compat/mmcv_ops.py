"""Let mmseg import on top of mmcv-lite (mmcv without compiled ops).

mmcv-lite is the pure-Python build of mmcv: it installs in seconds, but it
has no ``mmcv._ext`` extension. ``mmcv.ops`` loads that extension while it is
imported, and mmseg 1.2 imports ``mmcv.ops`` (``point_sample``,
``sigmoid_focal_loss``, ...) at import time, so ``import mmseg.models`` fails
with ``ModuleNotFoundError: No module named 'mmcv._ext'`` although none of the
models mmrrsis builds calls a compiled op.

:func:`patch_mmcv_ops` fixes exactly that and nothing more. When the compiled
extension is importable (full mmcv) it does nothing. When it is absent, it
puts a stand-in module at ``mmcv._ext`` whose every attribute is a function
that raises :class:`MissingMMCVOpsError`, naming the op and saying that full
mmcv is needed. ``mmcv.ops`` then imports, its pure-Python parts (for
example ``point_sample``, which is ``grid_sample`` underneath) work, and a
compiled op fails only when it is called, with a clear message.

``import mmrrsis`` calls it before anything imports ``mmcv.ops``.
"""
import importlib.machinery
import importlib.util
import sys
import types

EXT_NAME = 'mmcv._ext'


class MissingMMCVOpsError(RuntimeError):
    """A compiled mmcv op was called, but only mmcv-lite is installed."""


def _missing_op(name: str):

    def op(*args, **kwargs):
        raise MissingMMCVOpsError(
            f'The mmcv op "{name}" needs the compiled mmcv extension, but '
            'the installed mmcv has none (mmcv-lite). Install full mmcv '
            '(e.g. `pip uninstall -y mmcv-lite && mim install '
            '"mmcv>=2.0.0rc4,<2.2.0"`, which compiles the ops) to use it.')

    op.__name__ = name
    op.__qualname__ = name
    return op


class _MissingExtModule(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every op name resolves to a raiser."""

    is_mmrrsis_stub = True

    def __getattr__(self, name: str):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        return _missing_op(name)


def has_compiled_ops() -> bool:
    """Whether the real compiled ``mmcv._ext`` is importable."""
    module = sys.modules.get(EXT_NAME)
    if module is not None:
        return not getattr(module, 'is_mmrrsis_stub', False)
    try:
        return importlib.util.find_spec(EXT_NAME) is not None
    except ImportError:  # mmcv itself is missing
        return False


def is_patched() -> bool:
    """Whether :func:`patch_mmcv_ops` installed the stand-in module."""
    return getattr(sys.modules.get(EXT_NAME), 'is_mmrrsis_stub', False)


def patch_mmcv_ops() -> bool:
    """Install the ``mmcv._ext`` stand-in when the compiled ops are absent.

    Returns:
        bool: True when the stand-in is in place (mmcv-lite), False when the
        real extension is present and nothing was changed.
    """
    if is_patched():
        return True
    if has_compiled_ops():
        return False
    stub = _MissingExtModule(
        EXT_NAME, 'mmrrsis stand-in for the compiled mmcv ops (mmcv-lite).')
    # a spec without a loader: ``pkgutil.find_loader('mmcv._ext')`` (used by
    # mmengine's ``mmcv_full_available``) then answers None ("no compiled
    # ops") instead of raising ValueError on a missing ``__spec__``
    stub.__spec__ = importlib.machinery.ModuleSpec(EXT_NAME, None)
    sys.modules[EXT_NAME] = stub
    return True
