"""Converters of reference checkpoints into mmrrsis' keys: one key map per
model family (:mod:`.lavt`, :mod:`.rmsin`, ...) and what they share
(:mod:`.common`: safe reading, the reference's saved arguments and the
config requirements they set, atomic writing, the command line of
``tools/model_converters/<model>2mmrrsis.py``)."""
from .common import (
    ConfigRequirementError,
    ConvertedState,
    check_config_requirements,
    convert_reference_checkpoint,
    converter_cli,
    parse_reference_args,
    read_reference,
    reference_args,
    requirement,
    save_converted,
    strip_module,
)
from .lavt import (
    convert_lavt,
    convert_lavt_layout,
    lavt_requirements,
    parse_mha,
    patch_merging_order,
    window_of,
)
from .rmsin import convert_rmsin

__all__ = [
    'ConfigRequirementError', 'ConvertedState', 'check_config_requirements',
    'convert_lavt', 'convert_lavt_layout', 'convert_reference_checkpoint',
    'convert_rmsin', 'converter_cli', 'lavt_requirements', 'parse_mha',
    'parse_reference_args', 'patch_merging_order', 'read_reference',
    'reference_args', 'requirement', 'save_converted', 'strip_module',
    'window_of'
]
