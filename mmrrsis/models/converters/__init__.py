"""Converters of reference checkpoints into mmrrsis' keys: one key map per
model family (:mod:`.lavt`, :mod:`.rmsin`, :mod:`.fianet`,
:mod:`.rsrefseg2`, :mod:`.dicor`, ...) and what they share
(:mod:`.common`: safe reading, the reference's saved arguments and the
config requirements they set, atomic writing, the command line of
``tools/model_converters/<model>2mmrrsis.py``) (contract C2)."""
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
from .dicor import (
    DiCoRConversionError,
    check_expected_cfg,
    check_loads_into,
    checkpoint_kind,
    convert_dicor,
    convert_dicor_files,
    dicor_expected_cfg,
    dicor_requirements,
)
from .fianet import (
    config_mismatches,
    convert_fianet,
    convert_fianet_file,
    fianet_config_options,
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
from .rsrefseg2 import (
    convert_rsrefseg2,
    convert_rsrefseg2_file,
    merge_lora_weights,
    sam2_to_transformers,
)

__all__ = [
    'ConfigRequirementError', 'ConvertedState', 'check_config_requirements',
    'config_mismatches', 'convert_fianet', 'convert_fianet_file',
    'convert_lavt', 'convert_lavt_layout', 'convert_reference_checkpoint',
    'convert_rmsin', 'convert_rsrefseg2', 'convert_rsrefseg2_file',
    'converter_cli', 'fianet_config_options', 'lavt_requirements',
    'merge_lora_weights', 'parse_mha', 'parse_reference_args',
    'patch_merging_order', 'read_reference', 'reference_args', 'requirement',
    'sam2_to_transformers', 'save_converted', 'strip_module', 'window_of',
    'DiCoRConversionError', 'check_expected_cfg', 'check_loads_into',
    'checkpoint_kind', 'convert_dicor', 'convert_dicor_files',
    'dicor_expected_cfg', 'dicor_requirements'
]
