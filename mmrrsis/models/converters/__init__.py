"""Reference checkpoints in mmrrsis' layout: one key map per model
(contract C2)."""
from .fianet import (
    config_mismatches,
    convert_fianet,
    convert_fianet_file,
    fianet_config_options,
)
from .rsrefseg2 import (
    convert_rsrefseg2,
    convert_rsrefseg2_file,
    merge_lora_weights,
    sam2_to_transformers,
)

__all__ = [
    'config_mismatches', 'convert_fianet', 'convert_fianet_file',
    'fianet_config_options', 'convert_rsrefseg2', 'convert_rsrefseg2_file',
    'merge_lora_weights', 'sam2_to_transformers'
]
