"""Let ``import mmpretrain.models`` work beside transformers 4.5x.

mmpretrain 1.2 imports its multimodal models (BLIP, BLIP-2, Chinese CLIP,
Flamingo, ...) whenever transformers >= 4.28 and pycocotools are installed
(``mmpretrain.utils.dependency.WITH_MULTIMODAL``). Its BLIP code imports
``apply_chunking_to_forward``, ``find_pruneable_heads_and_indices`` and
``prune_linear_layer`` from ``transformers.modeling_utils``; transformers
moved them to ``transformers.pytorch_utils`` (4.57 has them only there), so
``import mmpretrain.models`` fails with ``TypeError: NoneType takes no
arguments`` although the backbones mmrrsis uses (Swin, SwinV2, ConvNeXt,
ViT-SAM, ResNet) never touch that code.

:func:`disable_broken_multimodal` fixes exactly that: when the installed
transformers lacks those names in ``modeling_utils``, it sets mmpretrain's
own switch ``WITH_MULTIMODAL`` to False before ``mmpretrain.models`` is
imported. mmpretrain then registers its documented placeholders for the
multimodal models (building one raises an ``ImportError`` saying what is
missing) and imports everything else. Nothing of transformers is changed.

Importing mmpretrain costs about 2 s, so ``import mmrrsis`` does not do it:
:func:`install_mmpretrain_hook` puts a finder on ``sys.meta_path`` that
acts once, when something (a config naming ``mmpretrain.ConvNeXt``, our
adapters, the user) first imports ``mmpretrain.models``, calls
:func:`disable_broken_multimodal` and removes itself. It finds no module
itself; every import proceeds as without it.
"""
import importlib.abc
import importlib.util
import sys

#: what mmpretrain 1.2's BLIP imports from ``transformers.modeling_utils``
MMPRETRAIN_NEEDS = ('apply_chunking_to_forward',
                    'find_pruneable_heads_and_indices', 'prune_linear_layer')
TARGET = 'mmpretrain.models'


def _transformers_has_old_names() -> bool:
    try:
        import transformers.modeling_utils as modeling_utils
    except Exception:  # no (importable) transformers: mmpretrain skips it
        return True
    return all(hasattr(modeling_utils, name) for name in MMPRETRAIN_NEEDS)


def disable_broken_multimodal() -> bool:
    """Turn off mmpretrain's multimodal models when they cannot import.

    Returns:
        bool: True when mmpretrain's ``WITH_MULTIMODAL`` is False because
        of this call (or an earlier one), False when nothing was changed
        (mmpretrain absent, its models already imported, or a transformers
        that still has the names mmpretrain imports).
    """
    if importlib.util.find_spec('mmpretrain') is None:
        return False
    from mmpretrain.utils import dependency
    if getattr(dependency, '_mmrrsis_disabled_multimodal', False):
        return True
    if TARGET in sys.modules or not dependency.WITH_MULTIMODAL:
        return False
    if _transformers_has_old_names():
        return False
    dependency.WITH_MULTIMODAL = False
    dependency._mmrrsis_disabled_multimodal = True
    return True


class _MMPretrainModelsHook(importlib.abc.MetaPathFinder):
    """Runs :func:`disable_broken_multimodal` before ``mmpretrain.models``
    is first imported; finds nothing itself."""

    is_mmrrsis_hook = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname == TARGET:
            remove_mmpretrain_hook()
            disable_broken_multimodal()
        return None


def remove_mmpretrain_hook() -> None:
    """Take the finder of :func:`install_mmpretrain_hook` off again."""
    sys.meta_path[:] = [
        f for f in sys.meta_path if not getattr(f, 'is_mmrrsis_hook', False)
    ]


def install_mmpretrain_hook() -> bool:
    """Apply the fix now if mmpretrain is imported, else when it is.

    Returns:
        bool: True when the finder was installed (mmpretrain is installed
        and its models are not imported yet).
    """
    if TARGET in sys.modules or importlib.util.find_spec(
            'mmpretrain') is None:
        return False
    if 'mmpretrain' in sys.modules:
        disable_broken_multimodal()
        return False
    if not any(getattr(f, 'is_mmrrsis_hook', False) for f in sys.meta_path):
        sys.meta_path.insert(0, _MMPretrainModelsHook())
    return True
