"""Utilities: environment, registration and type aliases."""
from .collect_env import collect_env, mmcv_flavour
from .malloc import set_malloc_mmap_threshold
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

__all__ = [
    'collect_env', 'mmcv_flavour', 'register_all_modules', 'ConfigType',
    'ForwardResults', 'MultiConfig', 'OptConfigType', 'OptMultiConfig',
    'OptSampleList', 'SampleList', 'TensorDict', 'TensorList',
    'set_malloc_mmap_threshold'
]
