"""Key maps of reference checkpoints onto mmrrsis' models, one module per
model (contract C2)."""
from .rsrefseg2 import (
    convert_rsrefseg2,
    convert_rsrefseg2_file,
    merge_lora_weights,
    sam2_to_transformers,
)

__all__ = [
    'convert_rsrefseg2', 'convert_rsrefseg2_file', 'merge_lora_weights',
    'sam2_to_transformers'
]
