"""The modules of CMPC / CMPC+ (Huang et al., CVPR 2020; Liu et al., TPAMI
2021), as ``CMPC_model.py`` of spyflying/CMPC-Refseg builds them:

- :class:`WordRoleClassifier` (``build_lang_parser``): every word's
  probabilities of being an entity, attribute, relation or unnecessary
  word, learned with the model (no parser);
- :class:`SpatialRelationGraph` (``build_spa_graph`` + ``graph_conv``):
  relational reasoning over a graph of the pixels whose edges are made by
  the relation words;
- :class:`TextGuidedExchange` (``gated_exchange_module``,
  ``global_vec``, ``lang_se``): text-guided feature exchange between
  levels (TGFE).
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .graph_conv import GraphConv
from .multimodal_layers import SameConv2d, glorot_linear, l2_normalize

#: The word roles, in the order of :class:`WordRoleClassifier`'s output.
WORD_ROLES = ('entity', 'attribute', 'relation', 'unnecessary')


def weighted_word_sum(weights: Tensor, words: Tensor) -> Tensor:
    """``l2_normalize(sum_t weights_t w_t)``: a sentence vector from word
    weights (the references' ``valid_lang`` and ``nec_lang``).

    Args:
        weights (Tensor): (B, T), 0 at padding.
        words (Tensor): (B, T, C).

    Returns:
        Tensor: (B, C).
    """
    return l2_normalize(torch.bmm(weights[:, None], words)[:, 0], dim=1)


class WordRoleClassifier(nn.Module):
    """Classify every word as entity, attribute, relation or unnecessary::

        p_t = softmax(W_2 ReLU(W_1 w_t))        (B, T, 4), 0 at padding

    Args:
        text_channels (int): C_t.
        hidden_channels (int): Defaults to 500 (the reference's).
        num_roles (int): Defaults to 4 (:data:`WORD_ROLES`).
    """

    def __init__(self,
                 text_channels: int,
                 hidden_channels: int = 500,
                 num_roles: int = len(WORD_ROLES)) -> None:
        super().__init__()
        self.hidden = glorot_linear(text_channels, hidden_channels)
        self.classify = glorot_linear(hidden_channels, num_roles)

    def forward(self, words: Tensor, mask: Tensor) -> Tensor:
        """Role probabilities.

        Args:
            words (Tensor): (B, T, C_t) unit-length word features.
            mask (Tensor): (B, T), 1 for real words.

        Returns:
            Tensor: (B, T, 4); rows of padded words are 0.
        """
        probs = self.classify(F.relu(self.hidden(words))).softmax(dim=-1)
        return probs * mask.to(probs.dtype)[..., None]


class SpatialRelationGraph(nn.Module):
    """Reason over a graph of pixels linked by the relation words.

    For the multimodal map M (B, C_v, H, W), word features w (B, T, C_t)
    and the relation probability r_t of each word, with N = H W::

        S   = (V(M) U(w)^T / sqrt(C_v)) . r        (B, N, T)
        Adj = softmax_words(S) softmax_pixels(S)^T  (B, N, N), rows sum to 1
        out = l2_normalize(GraphConv(M, Adj))       (B, C_v, H, W)

    V is a 1x1 convolution (``spa_graph_trans2``), U a linear layer
    (``words_trans``). Padded words are left out of the softmax over
    words. The reference maps the words C_t -> C_t and needs C_v = C_t;
    here U maps C_t -> C_v, the same layer when they are equal.

    Args:
        vis_channels (int): C_v.
        text_channels (int): C_t.
    """

    def __init__(self, vis_channels: int, text_channels: int) -> None:
        super().__init__()
        self.vis_channels = vis_channels
        self.words_trans = glorot_linear(text_channels, vis_channels)
        self.vis_trans = SameConv2d(vis_channels, vis_channels)
        self.graph_conv = GraphConv(vis_channels)

    def forward(self, mm_feat: Tensor, words: Tensor, mask: Tensor,
                relation: Tensor) -> Tensor:
        """Reason.

        Args:
            mm_feat (Tensor): (B, C_v, H, W).
            words (Tensor): (B, T, C_t).
            mask (Tensor): (B, T), 1 for real words.
            relation (Tensor): (B, T) relation probability of each word.

        Returns:
            Tensor: (B, C_v, H, W), unit length over channels.
        """
        b, c, h, w = mm_feat.shape
        vis = self.vis_trans(mm_feat).flatten(2).transpose(1, 2)
        scores = torch.bmm(vis, self.words_trans(words).transpose(1, 2))
        scores = scores / math.sqrt(self.vis_channels)
        scores = scores * relation[:, None, :]
        by_word = scores.masked_fill(mask[:, None, :] <= 0,
                                     float('-inf')).softmax(dim=2)
        by_pixel = scores.softmax(dim=1)
        adjacency = torch.bmm(by_word, by_pixel.transpose(1, 2))
        nodes = mm_feat.flatten(2).transpose(1, 2)
        out = self.graph_conv(nodes, adjacency)
        return l2_normalize(out.transpose(1, 2).reshape(b, c, h, w), dim=1)


class TextGuidedExchange(nn.Module):
    """Text-guided feature exchange into one level from the others (TGFE).

    For the level's map F (B, C, H, W), the other levels' maps F_k and the
    sentence vector l (B, C_t)::

        a   = softmax_pixels(K(F) Q(l) / sqrt(C))           (B, N)
        g   = l2_normalize(G [sum_n a_n F_n ; l])            (B, C)
        out = l2_normalize(F + sum_k ReLU(T_k(F_k)) . sigmoid(S_k g))

    K, T_k are 1x1 convolutions (``spa_graph_key``, ``trans_feat``), Q, G,
    S_k linear layers (``lang_query``, ``gv_lang``, ``lang_feat``). The
    reference normalises g over the whole batch tensor (it runs batch 1);
    here each sample's g is normalised, the same at batch 1.

    Args:
        channels (int): C.
        text_channels (int): C_t.
        num_others (int): How many other levels. Defaults to 2.
    """

    def __init__(self,
                 channels: int,
                 text_channels: int,
                 num_others: int = 2) -> None:
        super().__init__()
        self.channels = channels
        self.key = SameConv2d(channels, channels)
        self.query = glorot_linear(text_channels, channels)
        self.global_vec = glorot_linear(channels + text_channels, channels)
        self.gates = nn.ModuleList(
            [glorot_linear(channels, channels) for _ in range(num_others)])
        self.trans = nn.ModuleList(
            [SameConv2d(channels, channels) for _ in range(num_others)])

    def forward(self, feat: Tensor, others: Sequence[Tensor],
                sentence: Tensor) -> Tensor:
        """Exchange.

        Args:
            feat (Tensor): (B, C, H, W) this level.
            others (Sequence[Tensor]): The other levels, (B, C, H, W) each.
            sentence (Tensor): (B, C_t).

        Returns:
            Tensor: (B, C, H, W), unit length over channels.
        """
        if len(others) != len(self.gates):
            raise ValueError(f'TextGuidedExchange expects {len(self.gates)} '
                             f'other levels, got {len(others)}.')
        key = self.key(feat).flatten(2)  # (B, C, N)
        attn = torch.einsum('bcn,bc->bn', key,
                            self.query(sentence)) / math.sqrt(self.channels)
        attn = attn.softmax(dim=1)
        pooled = torch.einsum('bn,bcn->bc', attn, feat.flatten(2))
        guide = l2_normalize(
            self.global_vec(torch.cat([pooled, sentence], dim=1)), dim=1)
        out = feat
        for other, gate, trans in zip(others, self.gates, self.trans):
            out = out + F.relu(trans(other)) * torch.sigmoid(
                gate(guide))[..., None, None]
        return l2_normalize(out, dim=1)


__all__ = [
    'WORD_ROLES', 'weighted_word_sum', 'WordRoleClassifier',
    'SpatialRelationGraph', 'TextGuidedExchange'
]
