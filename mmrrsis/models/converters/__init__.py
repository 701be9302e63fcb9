"""Key maps of reference checkpoints, one module per model
(``convert_<model>``); the tools in ``tools/model_converters/`` call them."""
from .dicor import (
    DiCoRConversionError,
    check_expected_cfg,
    check_loads_into,
    checkpoint_kind,
    convert_dicor,
    convert_dicor_files,
    dicor_expected_cfg,
)

__all__ = [
    'DiCoRConversionError', 'check_expected_cfg', 'check_loads_into',
    'checkpoint_kind', 'convert_dicor', 'convert_dicor_files',
    'dicor_expected_cfg'
]
