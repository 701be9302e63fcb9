"""Graph convolution over nodes with a given adjacency (the references'
``graph_conv``, used by LSCM over words and by CMPC over pixels)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .multimodal_layers import glorot_linear


class NodeLayerNorm(nn.LayerNorm):
    """Layer norm over all nodes and channels of a sample together, with a
    per-channel scale and shift (TF ``layer_norm`` on a (1, N, C) tensor).

    With ``mask`` only the real nodes enter the mean and variance (a padded
    batch then gives each sample what it gives alone).

    Args:
        channels (int): C.
        eps (float): Defaults to 1e-12 (TF's).
    """

    def __init__(self, channels: int, eps: float = 1e-12) -> None:
        super().__init__(channels, eps=eps)

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Normalise.

        Args:
            x (Tensor): (B, N, C) node features.
            mask (Tensor, optional): (B, N), 1 for real nodes. Defaults to
                None (all real).

        Returns:
            Tensor: (B, N, C); padded nodes hold unspecified values.
        """
        if mask is None:
            mean = x.mean(dim=(1, 2), keepdim=True)
            var = x.var(dim=(1, 2), unbiased=False, keepdim=True)
        else:
            m = mask.to(x.dtype)[..., None]
            count = (m.sum(dim=(1, 2), keepdim=True) * x.shape[-1]).clamp(
                min=1)
            mean = (x * m).sum(dim=(1, 2), keepdim=True) / count
            var = (((x - mean) * m)**2).sum(dim=(1, 2), keepdim=True) / count
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + \
            self.bias


class GraphConv(nn.Module):
    """One graph convolution with a residual (the references'
    ``graph_conv``)::

        H  = ReLU(X + LN_1(A X))
        X' = ReLU(LN_2(W H + b))

    for node features X (B, N, C) and an adjacency A (B, N, N) (row n holds
    the weights of the nodes n gathers from).

    Args:
        channels (int): C.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gather_norm = NodeLayerNorm(channels)
        self.update = glorot_linear(channels, channels)
        self.update_norm = NodeLayerNorm(channels)

    def forward(self,
                nodes: Tensor,
                adjacency: Tensor,
                mask: Optional[Tensor] = None) -> Tensor:
        """Propagate.

        Args:
            nodes (Tensor): (B, N, C).
            adjacency (Tensor): (B, N, N).
            mask (Tensor, optional): (B, N), 1 for real nodes; padded ones
                are left out of the norms and come out as 0. Defaults to
                None.

        Returns:
            Tensor: (B, N, C).
        """
        gathered = self.gather_norm(torch.bmm(adjacency, nodes), mask)
        out = F.relu(nodes + gathered)
        out = F.relu(self.update_norm(self.update(out), mask))
        if mask is not None:
            out = out * mask.to(out.dtype)[..., None]
        return out


__all__ = ['NodeLayerNorm', 'GraphConv']
