"""Model utilities: the text record and layers shared by components.

(Checkpoint conversion moved to :mod:`mmrrsis.models.converters`; its
shared helpers are re-exported here for code written against the old
place.)"""
# moved to mmrrsis.models.converters; re-exported for converters written
# against this place before the move (contract C2)
from mmrrsis.models.converters.common import (  # noqa: E402,I001
    convert_reference_checkpoint,
    converter_cli,
    save_converted,
)

from .adaptive_rotated_conv import (
    AdaptiveRotatedConv2d,
    RotationRouting,
    kernel_rotation_matrix,
    rotate_kernels,
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
    'rotate_kernels', 'POOLINGS', 'MultiScaleTextModule', 'TextConditioned',
    'TextFeatures', 'pool_words', 'takes_text',
    'convert_reference_checkpoint', 'converter_cli', 'save_converted',
    'SafePretrainedInit'
]
