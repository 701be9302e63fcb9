"""Type aliases shared with mmseg, re-exported for mmrrsis components."""
from mmseg.utils import (
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
    'ConfigType', 'ForwardResults', 'MultiConfig', 'OptConfigType',
    'OptMultiConfig', 'OptSampleList', 'SampleList', 'TensorDict',
    'TensorList'
]
