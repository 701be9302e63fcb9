"""Utilities: environment, registration, config walking, type aliases."""
from .atomic_write import write_atomically, write_json_atomically
from .cli_args import add_scaling_args, add_unsafe_load_arg, scaling_from_args
from .collect_env import collect_env, mmcv_flavour
from .config_utils import (
    drop_steps,
    find_steps,
    iter_dataset_cfgs,
    iter_dicts,
    iter_pipelines,
    map_pipelines,
    type_name,
)
from .malloc import set_malloc_mmap_threshold
from .optional_deps import import_rasterio
from .precision import PRECISIONS, autocast_context, check_precision
from .set_env import register_all_modules
from .typing_utils import (
    ConfigType,
    ForwardResults,
    MultiConfig,
    OptConfigType,
    OptMultiConfig,
    OptSampleList,
    SampleList,
    TensorDict,
    TensorList,
)
from .window_grid import window_grid, window_spans

__all__ = [
    'collect_env', 'mmcv_flavour', 'register_all_modules', 'ConfigType',
    'ForwardResults', 'MultiConfig', 'OptConfigType', 'OptMultiConfig',
    'OptSampleList', 'SampleList', 'TensorDict', 'TensorList',
    'set_malloc_mmap_threshold', 'drop_steps', 'find_steps',
    'iter_dataset_cfgs', 'iter_dicts', 'iter_pipelines', 'map_pipelines',
    'type_name', 'import_rasterio', 'add_scaling_args', 'add_unsafe_load_arg',
    'scaling_from_args', 'PRECISIONS', 'autocast_context',
    'check_precision', 'window_grid', 'window_spans', 'write_atomically',
    'write_json_atomically'
]
