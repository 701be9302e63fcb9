"""LSCM's linguistic structure guided context module (Hui et al., ECCV
2020; ``LSCM_model_p2345.py``, ``build_lscm`` and ``graph_conv``)."""
import math

import torch
from torch import Tensor, nn

from .graph_conv import GraphConv
from .multimodal_layers import SameConv2d, glorot_linear, l2_normalize


class WordGraphContext(nn.Module):
    """Gather multimodal context into word nodes, propagate it over the
    dependency-parse word graph, distribute it back to the pixels.

    For the multimodal map M (B, C_v, H, W) of one level, the word features
    w_t (unit length, padding 0) and the parse graph G (B, T, T)
    (``TextFeatures.graph``: 1 between a word and its head, 0.1 between
    other words, 0 at padding), with N = H W pixels::

        A   = softmax_pixels(K(M) Q(w)^T / sqrt(C_t))    (B, N, T)
        X   = l2_normalize(A^T M)                        nodes (B, T, C_v)
        E   = softmax_words(Q'(X) K'(X)^T / sqrt(C_v)) . G   (B, T, T)
        X'  = GraphConv(X, E)                            (see GraphConv)
        out = l2_normalize(A X')                         (B, C_v, H, W)

    (gather, parse-suppressed propagation, distribute)

    K is a 1x1 convolution (``vis_key``), Q, Q', K' linear layers
    (``words_query``, ``vagr_query``, ``vagr_key``). Padded words are left
    out of the softmax over words, the norms and the distribution, so a
    padded batch gives each expression what it gives alone (the reference
    runs batch 1). The reference projects the words C_t -> C_t and needs
    C_v = C_t (1000 both); here Q maps C_t -> C_v, the same layer when
    they are equal.

    Args:
        vis_channels (int): C_v.
        text_channels (int): C_t.
    """

    def __init__(self, vis_channels: int, text_channels: int) -> None:
        super().__init__()
        self.text_channels = text_channels
        self.vis_channels = vis_channels
        self.vis_key = SameConv2d(vis_channels, vis_channels)
        self.words_query = glorot_linear(text_channels, vis_channels)
        self.node_query = glorot_linear(vis_channels, vis_channels)
        self.node_key = glorot_linear(vis_channels, vis_channels)
        self.graph_conv = GraphConv(vis_channels)

    def forward(self, mm_feat: Tensor, words: Tensor, mask: Tensor,
                graph: Tensor) -> Tensor:
        """Gather, propagate, distribute.

        Args:
            mm_feat (Tensor): (B, C_v, H, W) multimodal map.
            words (Tensor): (B, T, C_t) unit-length word features.
            mask (Tensor): (B, T), 1 for real words.
            graph (Tensor): (B, T, T) parse weights.

        Returns:
            Tensor: (B, C_v, H, W), unit length over channels.
        """
        b, c, h, w = mm_feat.shape
        valid = mask > 0
        pixels = mm_feat.flatten(2).transpose(1, 2)  # (B, N, C_v)
        key = self.vis_key(mm_feat).flatten(2).transpose(1, 2)
        query = self.words_query(words)  # (B, T, C_v)
        attn = torch.bmm(key, query.transpose(1, 2)) / math.sqrt(
            self.text_channels)
        attn = attn.softmax(dim=1)  # over pixels, per word
        attn = attn * valid[:, None, :].to(attn.dtype)  # padded words out
        nodes = l2_normalize(torch.bmm(attn.transpose(1, 2), pixels), dim=2)
        scores = torch.bmm(
            self.node_query(nodes),
            self.node_key(nodes).transpose(1, 2)) / math.sqrt(c)
        scores = scores.masked_fill(~valid[:, None, :], float('-inf'))
        edges = scores.softmax(dim=2) * graph
        edges = edges * valid[:, :, None].to(edges.dtype)
        nodes = self.graph_conv(nodes, edges, mask)
        out = torch.bmm(attn, nodes)  # (B, N, C_v)
        return l2_normalize(out.transpose(1, 2).reshape(b, c, h, w), dim=1)


__all__ = ['WordGraphContext']
