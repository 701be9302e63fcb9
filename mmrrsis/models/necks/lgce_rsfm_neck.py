"""LGCE laid out as its public re-implementation (RSFM toolbox)."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.model import ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .base_text_neck import BaseTextNeck
from .lgce_blocks import (
    TokenAttention,
    TransformerBlock,
    norm_act_linear,
    to_map,
    to_tokens,
)


@MODELS.register_module()
class LGCERSFMNeck(BaseTextNeck):
    """LGCE in the layout of the public re-implementation, for comparison.

    The re-implementation (RSFM toolbox, ``lgce_head.py``; a CrossViT-style
    multi-scale block) enhances two scales, by default the two deepest
    (stages 3 and 4), and returns all maps, the others unchanged::

        s    = text.pool('mean')          plain mean over all L positions,
                                          padding included
        g_b  = s A_b + a_b                guide token of branch b
        Y_b  = ViT_b([g_b, tokens(F_b)])  per-branch pre-norm ViT blocks
        F_b' = Y_b without its first (guide) token

    with depths (1, 3), heads (8, 16), MLP ratio 2 and no qkv bias.

    The re-implementation then runs a cross-branch exchange: each branch's
    guide token is projected to the other branch's width (LN, GELU,
    Linear: ``to_other``), attends to the other branch's tokens
    (``cross_norms``, ``cross_attns``: one pre-norm attention without MLP)
    and is projected back (``from_other``); and it drops the guide tokens
    afterwards. So the exchange never reaches its output: its weights get
    no gradient and the result of computing it is thrown away. This class
    keeps those layers (and, with ``unused_patch_embed=True``, the two
    patch-embedding convolutions the re-implementation builds and never
    calls), so that the parameter count (36,712,960 at Swin-B widths) and
    the keys are the re-implementation's and its weights load strictly,
    but it does not compute them: the output is the same function, with
    the exchange's cost saved. They are frozen (``requires_grad=False``),
    so distributed training needs no ``find_unused_parameters``. The
    paper's LGCE, where the cross-scale exchange reaches the pixels, is
    :class:`LGCENeck`.

    Args:
        in_channels (Sequence[int]): Channels of F_1..F_n. Defaults to
            (128, 256, 512, 1024).
        text_channels (int): Word feature channels. Defaults to 768.
        scales (Sequence[int], optional): The two enhanced scales. Defaults
            to the two deepest.
        num_heads (int | Sequence[int]): Heads per branch. Defaults to
            (8, 16).
        mlp_ratio (float): MLP hidden ratio. Defaults to 2.
        depths (Sequence[int]): ViT blocks per branch. Defaults to (1, 3).
        unused_patch_embed (bool): Keep the re-implementation's unused
            patch embeddings. Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to None:
            PyTorch's default initialisation, as in the re-implementation.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (128, 256, 512, 1024),
                 text_channels: int = 768,
                 scales: Optional[Sequence[int]] = None,
                 num_heads: Union[int, Sequence[int]] = (8, 16),
                 mlp_ratio: float = 2.,
                 depths: Sequence[int] = (1, 3),
                 unused_patch_embed: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        n = len(self.in_channels)
        self.scales = sorted(
            {int(s) % n
             for s in ((n - 2, n - 1) if scales is None else scales)})
        if len(self.scales) != 2:
            raise ValueError('LGCERSFMNeck has exactly two branches, got '
                             f'scales={scales}.')
        chans = [self.in_channels[i] for i in self.scales]
        if isinstance(num_heads, int):
            num_heads = (num_heads, num_heads)
        self.guide_projs = ModuleList(
            [nn.Linear(text_channels, c) for c in chans])
        self.branches = ModuleList([
            nn.Sequential(*[
                TransformerBlock(c, h, mlp_ratio, qkv_bias=False)
                for _ in range(depth)
            ]) for c, h, depth in zip(chans, num_heads, depths)
        ])
        # the re-implementation's exchange: kept, frozen, never computed
        self.to_other = ModuleList()
        self.cross_norms = ModuleList()
        self.cross_attns = ModuleList()
        self.from_other = ModuleList()
        for b in range(2):
            c, c_other, h_other = chans[b], chans[1 - b], num_heads[1 - b]
            self.to_other.append(norm_act_linear(c, c_other))
            self.cross_norms.append(nn.LayerNorm(c_other))
            self.cross_attns.append(
                TokenAttention(c_other, h_other, qkv_bias=False))
            self.from_other.append(norm_act_linear(c_other, c))
        unused = [
            self.to_other, self.cross_norms, self.cross_attns, self.from_other
        ]
        if unused_patch_embed:
            self.unused_patch_embeds = ModuleList([
                nn.Conv2d(3, chans[0], 8, 8),
                nn.Conv2d(3, chans[1], 16, 16)
            ])
            unused.append(self.unused_patch_embeds)
        for module in unused:
            module.requires_grad_(False)

    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Enhance the two branch scales.

        Args:
            inputs (Sequence[Tensor]): F_1..F_n, (B, C_i, H_i, W_i).
            text (TextFeatures): Words (B, L, C_t) and mask (B, L); the
                mask is not used (the plain mean includes padding).

        Returns:
            list[Tensor]: The maps, the two branch scales enhanced.
        """
        feats = self.check_inputs(inputs)
        sentence = text.pool('mean')  # padding included, as the layout
        for b, i in enumerate(self.scales):
            guide = self.guide_projs[b](sentence).unsqueeze(1)
            seq = torch.cat([guide, to_tokens(feats[i])], dim=1)
            feats[i] = to_map(self.branches[b](seq)[:, 1:],
                              feats[i].shape[2:])
        return feats
