"""CMPC+'s decoder: word roles, relational graph reasoning, text-guided
feature exchange and a ConvLSTM (Liu et al., TPAMI 2021)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.models.utils.multimodal_layers import MutanFusion, SameConv2d
from mmrrsis.models.utils.progressive_comprehension import (
    SpatialRelationGraph,
    TextGuidedExchange,
    WordRoleClassifier,
    weighted_word_sum,
)
from mmrrsis.registry import MODELS

from .recurrent_refine_head import RecurrentRefineHead

COORD_CHANNELS = 8


@MODELS.register_module()
class CMPCHead(RecurrentRefineHead):
    """CMPC+: cross-modal progressive comprehension.

    What spyflying/CMPC-Refseg's ``CMPC_model.py`` (the image model of the
    repository, which its README reports as updated after the CVPR 2020
    paper; CMPC+ is the TPAMI 2021 version) computes after the DeepLab
    ResNet-101 (``build_graph``), part by part:

    - levels C3, C4, C5 (``res3b3``, ``res4b22``, ``res5c``, all on the
      stride-8 grid), projected to 1000 channels and L2-normalised
      (``c*_lateral``);
    - the words: unit-length LSTM outputs (``LSTMTextEncoder``, no
      sentence vector is used);
    - word roles (``build_lang_parser``): each word's probabilities of
      entity / attribute / relation / unnecessary, learned
      (:class:`~mmrrsis.models.utils.WordRoleClassifier`, 1000 -> 500 ->
      4);
    - the entity-attribute sentence e = l2(sum_t (p_E + p_A) w_t)
      (``valid_lang``) and the necessary-word sentence
      n = l2(sum_t (1 - p_U) w_t) (``nec_lang``);
    - per level (``build_lang2vis``): a MUTAN fusion with e and the
      coordinates (5 heads), relation-guided graph reasoning over the
      pixels (``build_spa_graph``:
      :class:`~mmrrsis.models.utils.SpatialRelationGraph`), then
      ``ReLU(conv1x1([mutan; graph; e; coordinates]))`` to 500 channels
      (``fusion_c*``), scored per level for the level losses;
    - text-guided feature exchange between the levels, twice, guided by n
      (``gated_exchange_fusion_lstm_2times``:
      :class:`~mmrrsis.models.utils.TextGuidedExchange`);
    - a ConvLSTM reading the exchanged C3, C4, C5, its last output scored
      by a 3x3 convolution;
    - the loss (``train_op``): 0.7 x final + 0.1 x each level.

    Args:
        in_channels (Sequence[int]): Backbone maps' channels. Defaults to
            ResNet-101's C3-C5 (512, 1024, 2048).
        in_index (Sequence[int]): Defaults to (1, 2, 3).
        lateral_strides (Sequence[int]): Defaults to (1, 1, 1).
        refine_order (Sequence[int]): Defaults to (0, 1, 2).
        role_channels (int): Hidden width of the word-role classifier.
            Defaults to 500.
        num_mutan_heads (int): Defaults to 5.
        exchange_rounds (int): Rounds of feature exchange. Defaults to 2.
        **kwargs: See :class:`RecurrentRefineHead` (``channels`` 500,
            ``vis_channels`` 1000, ``text_channels`` 1000, ``feat_size``,
            ``final_loss_weight`` (here 0.7), ``level_loss_weight`` 0.1,
            ...).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (512, 1024, 2048),
                 in_index: Sequence[int] = (1, 2, 3),
                 lateral_strides: Sequence[int] = (1, 1, 1),
                 refine_order: Sequence[int] = (0, 1, 2),
                 role_channels: int = 500,
                 num_mutan_heads: int = 5,
                 exchange_rounds: int = 2,
                 **kwargs) -> None:
        kwargs.setdefault('final_loss_weight', 0.7)
        super().__init__(in_channels, in_index, lateral_strides,
                         refine_order, **kwargs)
        n, vis, text = self.num_levels, self.vis_channels, self.text_channels
        self.word_roles = WordRoleClassifier(text, role_channels)
        self.mutan = nn.ModuleList([
            MutanFusion(vis, text, num_mutan_heads, COORD_CHANNELS)
            for _ in range(n)
        ])
        self.relation_graph = nn.ModuleList(
            [SpatialRelationGraph(vis, text) for _ in range(n)])
        self.fusion = nn.ModuleList([
            SameConv2d(2 * vis + text + COORD_CHANNELS, self.channels)
            for _ in range(n)
        ])
        self.exchange = nn.ModuleList([
            TextGuidedExchange(self.channels, text, n - 1)
            for _ in range(exchange_rounds * n)
        ])

    def fuse(self, visual: List[Tensor],
             text: TextFeatures) -> Tuple[List[Tensor], List[Tensor]]:
        """Comprehend progressively.

        Args:
            visual (list[Tensor]): (B, C_v, h, w) per level.
            text (TextFeatures): ``words`` and ``mask``.

        Returns:
            tuple[list[Tensor], list[Tensor]]: The fused levels (scored)
            and the exchanged levels (refined).
        """
        words = self.unit_words(text)
        roles = self.word_roles(words, text.mask)  # (B, T, 4), 0 at pads
        entity = weighted_word_sum(roles[..., 0] + roles[..., 1], words)
        necessary = weighted_word_sum(roles[..., :3].sum(-1), words)
        coords, tiled = self.grid_inputs(visual, entity)
        levels = []
        for i, v in enumerate(visual):
            mm = self.mutan[i](v, coords, entity)
            graph = self.relation_graph[i](mm, words, text.mask,
                                           roles[..., 2])
            levels.append(
                F.relu(self.fusion[i](torch.cat(
                    [mm, graph, tiled, coords], dim=1))))
        maps = levels
        n = self.num_levels
        for r in range(len(self.exchange) // n):
            maps = [
                self.exchange[r * n + i](
                    maps[i], [maps[j] for j in range(n) if j != i],
                    necessary) for i in range(n)
            ]
        return levels, maps


__all__ = ['CMPCHead']
