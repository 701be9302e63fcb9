"""LSCM's decoder: MUTAN fusion, the dependency-parse word graph and a
ConvLSTM over the levels (Hui et al., ECCV 2020)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.models.utils.multimodal_layers import (
    MutanFusion,
    SameConv2d,
    l2_normalize,
)
from mmrrsis.models.utils.word_graph_context import WordGraphContext
from mmrrsis.registry import MODELS

from .recurrent_refine_head import RecurrentRefineHead

COORD_CHANNELS = 8


@MODELS.register_module()
class LSCMHead(RecurrentRefineHead):
    """LSCM: linguistic structure guided context modeling.

    What spyflying/LSCM-Refseg's ``LSCM_model_p2345.py`` computes after the
    DeepLab ResNet-101 (``build_graph``), part by part:

    - levels C2, C3, C4, C5 (``res2c``, ``res3b3``, ``res4b22``,
      ``res5c``), projected to 1000 channels on the stride-8 grid (C2 by a
      3x3 convolution of stride 2) and L2-normalised (``c*_lateral``);
      here :meth:`~RecurrentRefineHead.project`;
    - the words: unit-length LSTM outputs; the sentence: their maximum over
      the words, unit length (``lang_feat``), from
      ``LSTMTextEncoder(sentence='max', use_parse=True)``;
    - per level (``build_full_module``): a MUTAN fusion of the level with
      the sentence and 8 coordinate channels (``mutan_fusion``, 5 heads:
      :class:`~mmrrsis.models.utils.MutanFusion`), LSCM's
      gather-propagate-distribute over the dependency-parse word graph
      (``build_lscm`` + ``graph_conv``:
      :class:`~mmrrsis.models.utils.WordGraphContext`), then
      ``ReLU(conv1x1([mutan; context; sentence; coordinates]))`` to 500
      channels (``fusion_c*``);
    - a score (3x3 convolution to one logit) per level (``score_c*``), for
      the level losses;
    - a ConvLSTM (500 channels, 1x1 kernel, layer norm, peepholes;
      ``util/cell.py``) reading the fused levels C5, C4, C3, C2, C3, C4,
      C5, its last output scored by a 3x3 convolution (``score``);
    - the loss (``train_op``): 0.6 x final + 0.1 x each level, sigmoid
      cross-entropy summed over the pixels of each 320 x 320 label.

    The word graph is ``TextFeatures.graph`` (the parse attached by
    ``LoadExpressionParse``; ``LSTMTextEncoder(use_parse=True)``).

    Args:
        in_channels (Sequence[int]): Backbone maps' channels. Defaults to
            ResNet-101's (256, 512, 1024, 2048).
        in_index (Sequence[int]): Defaults to (0, 1, 2, 3).
        lateral_strides (Sequence[int]): Defaults to (2, 1, 1, 1).
        refine_order (Sequence[int]): Defaults to (3, 2, 1, 0, 1, 2, 3).
        num_mutan_heads (int): Defaults to 5.
        **kwargs: See :class:`RecurrentRefineHead` (``channels`` 500,
            ``vis_channels`` 1000, ``text_channels`` 1000, ``feat_size``,
            ``final_loss_weight`` (here 0.6), ``level_loss_weight`` 0.1,
            ``threshold``, ``loss_decode``, ``align_corners``, ...).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 lateral_strides: Sequence[int] = (2, 1, 1, 1),
                 refine_order: Sequence[int] = (3, 2, 1, 0, 1, 2, 3),
                 num_mutan_heads: int = 5,
                 **kwargs) -> None:
        kwargs.setdefault('final_loss_weight', 0.6)
        super().__init__(in_channels, in_index, lateral_strides,
                         refine_order, **kwargs)
        vis, text = self.vis_channels, self.text_channels
        self.mutan = nn.ModuleList([
            MutanFusion(vis, text, num_mutan_heads, COORD_CHANNELS)
            for _ in range(self.num_levels)
        ])
        self.context = nn.ModuleList([
            WordGraphContext(vis, text) for _ in range(self.num_levels)
        ])
        self.fusion = nn.ModuleList([
            SameConv2d(2 * vis + text + COORD_CHANNELS, self.channels)
            for _ in range(self.num_levels)
        ])

    def fuse(self, visual: List[Tensor],
             text: TextFeatures) -> Tuple[List[Tensor], List[Tensor]]:
        """Fuse every level with the words and their graph.

        Args:
            visual (list[Tensor]): (B, C_v, h, w) per level.
            text (TextFeatures): ``words``, ``mask``, ``sentence`` and
                ``graph`` (the parse).

        Returns:
            tuple[list[Tensor], list[Tensor]]: The fused levels (B, C, h,
            w), twice (scored, and refined in ``refine_order``).
        """
        if text.graph is None:
            raise ValueError(
                'LSCMHead needs the dependency-parse word graph '
                '(TextFeatures.graph): use LSTMTextEncoder(use_parse=True) '
                'and LoadExpressionParse in the pipeline.')
        if text.sentence is None:
            raise ValueError('LSCMHead needs a sentence vector: '
                             "LSTMTextEncoder(sentence='max').")
        words = self.unit_words(text)
        sentence = l2_normalize(text.sentence, dim=1)
        coords, tiled = self.grid_inputs(visual, sentence)
        levels = []
        for i, v in enumerate(visual):
            mm = self.mutan[i](v, coords, sentence)
            context = self.context[i](mm, words, text.mask, text.graph)
            levels.append(
                F.relu(self.fusion[i](torch.cat(
                    [mm, context, tiled, coords], dim=1))))
        return levels, levels


__all__ = ['LSCMHead']
