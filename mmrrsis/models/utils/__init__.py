"""Model utilities: the text record, layers shared by components,
checkpoint key conversion."""
from .adaptive_rotated_conv import (
    AdaptiveRotatedConv2d,
    RotationRouting,
    kernel_rotation_matrix,
    rotate_kernels,
)
from .ckpt_convert import (
    convert_lavt,
    convert_reference_checkpoint,
    convert_rmsin,
    converter_cli,
    patch_merging_order,
    save_converted,
)
from .safe_pretrained import SafePretrainedInit
from .text_features import (
    POOLINGS,
    MultiScaleTextModule,
    TextConditioned,
    TextFeatures,
    pool_words,
    takes_text,
)

__all__ = [
    'AdaptiveRotatedConv2d', 'RotationRouting', 'kernel_rotation_matrix',
    'rotate_kernels', 'convert_lavt', 'convert_reference_checkpoint',
    'convert_rmsin', 'converter_cli', 'patch_merging_order',
    'save_converted', 'SafePretrainedInit', 'POOLINGS',
    'MultiScaleTextModule', 'TextConditioned', 'TextFeatures', 'pool_words',
    'takes_text'
]
