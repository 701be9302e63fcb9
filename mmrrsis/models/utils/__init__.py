"""Model utilities: the text record and layers shared by components
(checkpoint conversion lives in :mod:`mmrrsis.models.converters`)."""
from .adaptive_rotated_conv import (
    AdaptiveRotatedConv2d,
    RotationRouting,
    kernel_rotation_matrix,
    rotate_kernels,
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
from .safe_pretrained import SafePretrainedInit
from .text_features import (
    POOLINGS,
    MultiScaleTextModule,
    TextConditioned,
    TextFeatures,
    pool_words,
    takes_text,
)
from .word_graph_context import WordGraphContext

__all__ = [
    'AdaptiveRotatedConv2d', 'RotationRouting', 'kernel_rotation_matrix',
    'rotate_kernels', 'POOLINGS', 'MultiScaleTextModule', 'TextConditioned',
    'TextFeatures', 'pool_words', 'takes_text',
    'ConvLSTM', 'ConvLSTMCell', 'GraphConv', 'NodeLayerNorm', 'MutanFusion',
    'SameConv2d', 'l2_normalize', 'spatial_coordinates', 'WORD_ROLES',
    'SpatialRelationGraph', 'TextGuidedExchange', 'WordRoleClassifier',
    'WordGraphContext', 'SafePretrainedInit'
]
