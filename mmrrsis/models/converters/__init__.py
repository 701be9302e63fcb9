"""Reference checkpoints in mmrrsis' layout: one key map per model."""
from .fianet import (
    config_mismatches,
    convert_fianet,
    convert_fianet_file,
    fianet_config_options,
)

__all__ = [
    'config_mismatches', 'convert_fianet', 'convert_fianet_file',
    'fianet_config_options'
]
