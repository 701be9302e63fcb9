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
from .conv_lstm import ConvLSTM, ConvLSTMCell
from .graph_conv import GraphConv, NodeLayerNorm
from .multimodal_layers import (
    MutanFusion,
    SameConv2d,
    l2_normalize,
    spatial_coordinates,
)
from .progressive_comprehension import (
    WORD_ROLES,
    SpatialRelationGraph,
    TextGuidedExchange,
    WordRoleClassifier,
)
from .text_features import (
    POOLINGS,
    MultiScaleTextModule,
    TextConditioned,
    TextFeatures,
    WordGraphFeatures,
    pool_words,
    takes_text,
)
from .word_graph_context import WordGraphContext

__all__ = [
    'AdaptiveRotatedConv2d', 'RotationRouting', 'kernel_rotation_matrix',
    'rotate_kernels', 'convert_lavt', 'convert_reference_checkpoint',
    'convert_rmsin', 'converter_cli', 'patch_merging_order',
    'save_converted', 'POOLINGS', 'MultiScaleTextModule', 'TextConditioned',
    'TextFeatures', 'pool_words', 'takes_text', 'ConvLSTM', 'ConvLSTMCell',
    'GraphConv', 'NodeLayerNorm', 'MutanFusion', 'SameConv2d',
    'l2_normalize', 'spatial_coordinates', 'WORD_ROLES',
    'SpatialRelationGraph', 'TextGuidedExchange', 'WordRoleClassifier',
    'WordGraphContext', 'WordGraphFeatures'
]
