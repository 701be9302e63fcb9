"""Swin Transformer with LAVT's language fusion inside every stage."""
from typing import List

import torch
from mmseg.models.backbones import SwinTransformer
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


@MODELS.register_module()
class LanguageAwareSwin(SwinTransformer):
    """mmseg's Swin Transformer that fuses language stage by stage (LAVT).

    The layers are mmseg's (``patch_embed``, ``stages[i].blocks``,
    ``stages[i].downsample``, output norms ``norm{i}``), so mmseg's Swin
    checkpoints and its ``swin2mmseg`` converter apply unchanged. The
    fusion modules live in ``self.fusion``, a neck built from
    ``fusion_cfg`` (default :class:`LAVTFusionNeck`), called after each
    stage's blocks and before its patch merging::

        X_1 = PatchEmbed(I)
        for stage i:
            X_i        = blocks_i(X_i)
            F_i, X_i   = fusion.fuse(i, X_i, W, M)   # X_i + gate(F_i) F_i
            out_i      = norm_i(F_i) as (B, C_i, H_i, W_i)
            X_{i+1}    = PatchMerging_i(X_i)

    As in LAVT, the output norm is applied to the fused map ``F_i``, not
    to the gated stream. The last stage has no patch merging, so its
    gated stream is never used: its gate is kept (LAVT checkpoints hold
    it, and the parameter count includes it) but frozen, so distributed
    training needs no ``find_unused_parameters``.

    ``with_cp=True`` trades compute for memory: during training, each
    Swin block and each stage's fusion keep only their inputs and run
    their forward again in the backward pass (non-reentrant
    :func:`torch.utils.checkpoint.checkpoint`, random state preserved, so
    drop-path draws the same masks and the result is the same).

    Args:
        fusion_cfg (dict, optional): Config of the fusion neck;
            ``in_channels`` is filled in from the stage widths when absent.
            None means ``dict(type='LAVTFusionNeck', text_channels=768)``.
            Defaults to None.
        with_cp (bool): Gradient checkpointing of the blocks and fusions.
            Defaults to False.
        init_cfg (dict, optional): ``dict(type='Pretrained',
            checkpoint=...)`` with an mmseg-layout Swin checkpoint, loaded
            by mmseg's Swin logic (fusion weights are not in it). Defaults
            to None.
        **kwargs: Arguments of mmseg's ``SwinTransformer`` (embed_dims,
            depths, num_heads, window_size, drop_path_rate, ...).
    """

    with_text = True

    def __init__(self,
                 fusion_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        # checkpointing is done here (non-reentrant), not by mmseg's blocks
        super().__init__(init_cfg=init_cfg, with_cp=False, **kwargs)
        self.with_cp = with_cp
        fusion_cfg = dict(fusion_cfg or dict(
            type='LAVTFusionNeck', text_channels=768))
        fusion_cfg.setdefault('in_channels', list(self.num_features))
        if list(fusion_cfg['in_channels']) != list(self.num_features):
            raise ValueError(
                f'fusion in_channels {fusion_cfg["in_channels"]} must match '
                f'the stage widths {list(self.num_features)}.')
        self.fusion = MODELS.build(fusion_cfg)
        if self.stages[-1].downsample is None:
            self.fusion.gates[-1].requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise Swin as mmseg does, then the fusion modules."""
        super().init_weights()
        self.fusion.init_weights()

    def forward(self, x: Tensor, word_feats: Tensor,
                word_mask: Tensor) -> List[Tensor]:
        """Encode an image batch under the guidance of its expressions.

        Args:
            x (Tensor): (B, 3, H, W) images.
            word_feats (Tensor): (B, L, C_t) word features.
            word_mask (Tensor): (B, L), 1 for real words.

        Returns:
            list[Tensor]: For each index in ``out_indices``, the normalised
            fused map (B, C_i, H / 2^(i+2), W / 2^(i+2)).
        """
        x, hw_shape = self.patch_embed(x)
        if self.use_abs_pos_embed:
            x = x + self.absolute_pos_embed
        x = self.drop_after_pos(x)

        outs = []
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for i, stage in enumerate(self.stages):
            with_gate = stage.downsample is not None
            for block in stage.blocks:
                if use_cp:
                    x = checkpoint(block, x, hw_shape, use_reentrant=False)
                else:
                    x = block(x, hw_shape)
            if use_cp:
                fused, x = checkpoint(
                    self.fusion.fuse, i, x, word_feats, word_mask,
                    with_gate=with_gate, use_reentrant=False)
            else:
                fused, x = self.fusion.fuse(
                    i, x, word_feats, word_mask, with_gate=with_gate)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(fused)
                out = out.view(-1, *hw_shape, self.num_features[i])
                outs.append(out.permute(0, 3, 1, 2).contiguous())
            if stage.downsample is not None:
                x, hw_shape = stage.downsample(x, hw_shape)
        return outs
