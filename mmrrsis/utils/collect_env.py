"""Describe the environment for bug reports (``tools/misc/collect_env.py``)."""
from collections import OrderedDict

from mmengine.utils import get_git_hash
from mmengine.utils.dl_utils import collect_env as collect_base_env

from mmrrsis.compat import has_compiled_ops


def mmcv_flavour() -> str:
    """``'full'`` when mmcv's compiled ops are present, else ``'lite'``."""
    return 'full' if has_compiled_ops() else 'lite'


def collect_env() -> 'OrderedDict[str, str]':
    """Collect versions of Python, torch, CUDA and the OpenMMLab stack.

    Returns:
        OrderedDict: Name -> value, e.g. ``'MMCV flavour' -> 'lite'``.
    """
    import mmcv
    import mmengine
    import mmseg

    import mmrrsis

    env = collect_base_env()
    env['MMEngine'] = mmengine.__version__
    env['MMCV'] = mmcv.__version__
    env['MMCV flavour'] = mmcv_flavour()
    env['MMSegmentation'] = mmseg.__version__
    try:
        import transformers
        env['Transformers'] = transformers.__version__
    except ImportError:
        env['Transformers'] = 'not installed'
    env['mmrrsis'] = f'{mmrrsis.__version__}+{get_git_hash(digits=7)}'
    return env
