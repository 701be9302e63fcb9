"""Swin Transformer with LAVT's language fusion inside every stage."""
import logging
from typing import List

import torch
from mmengine.logging import print_log
from mmseg.models.backbones import SwinTransformer
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from mmrrsis.models.fusions import build_stage_fusion
from mmrrsis.models.utils import TextConditioned, TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


@MODELS.register_module()
class LanguageAwareSwin(SwinTransformer, TextConditioned):
    """mmseg's Swin Transformer that fuses language stage by stage (LAVT).

    The layers are mmseg's (``patch_embed``, ``stages[i].blocks``,
    ``stages[i].downsample``, output norms ``norm{i}``), so mmseg's Swin
    checkpoints and its ``swin2mmseg`` converter apply unchanged. The
    fusion lives in ``self.fusion``, a
    :class:`~mmrrsis.models.fusions.BaseFusion` built from ``fusion_cfg``
    (default :class:`~mmrrsis.models.fusions.PWAMFusion`, LAVT; RMSIN's is
    :class:`~mmrrsis.models.fusions.RMSINFusion`), called after each
    stage's blocks and before its patch merging::

        X_1 = PatchEmbed(I)
        for stage i:
            X_i        = blocks_i(X_i)
            F_i, X_i   = fusion.fuse(i, X_i, (H_i, W_i), text)
            out_i      = norm_i(F_i) as (B, C_i, H_i, W_i)
            X_{i+1}    = PatchMerging_i(X_i)

    As in LAVT, the output norm is applied to the fused map ``F_i``, not
    to the stream. The last stage has no patch merging, so its stream is
    never used: the fusion is called with ``with_stream=False`` there, and
    the modules only the stream needs (``fusion.stream_modules``: LAVT's
    last gate) are kept (reference checkpoints hold them, and the
    parameter count includes them) but frozen, so distributed training
    needs no ``find_unused_parameters``.

    ``with_cp=True`` trades compute for memory: during training, each
    Swin block and each stage's fusion keep only their inputs and run
    their forward again in the backward pass (non-reentrant
    :func:`torch.utils.checkpoint.checkpoint`, random state preserved, so
    drop-path draws the same masks and the result is the same).

    Args:
        fusion_cfg (dict, optional): Config of the fusion neck;
            ``in_channels`` is filled in from the stage widths when absent.
            None means ``dict(type='mmrrsis.PWAMFusion', text_channels=768)``.
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

    def __init__(self,
                 fusion_cfg: OptConfigType = None,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        # checkpointing is done here (non-reentrant), not by mmseg's blocks
        super().__init__(init_cfg=init_cfg, with_cp=False, **kwargs)
        self.with_cp = with_cp
        fusion_cfg = dict(fusion_cfg or dict(
            type='mmrrsis.PWAMFusion', text_channels=768))
        if fusion_cfg.get('type') in ('LAVTFusionNeck',
                                      'mmrrsis.LAVTFusionNeck'):
            # configs saved before the fusion got its own class (issue 15)
            print_log(
                'LanguageAwareSwin: fusion_cfg type "LAVTFusionNeck" is '
                'read as "PWAMFusion" (the same module and arguments; '
                'LAVTFusionNeck is now the late-fusion neck only).',
                logger='current',
                level=logging.WARNING)
            fusion_cfg['type'] = 'mmrrsis.PWAMFusion'
        self.fusion = build_stage_fusion(fusion_cfg, self.num_features,
                                         type(self).__name__)
        for i, stage in enumerate(self.stages):
            if stage.downsample is None:
                for module in self.fusion.stream_modules(i):
                    module.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise Swin as mmseg does, then the fusion modules."""
        super().init_weights()
        self.fusion.init_weights()

    def forward(self, x: Tensor, text: TextFeatures) -> List[Tensor]:
        """Encode an image batch under the guidance of its expressions.

        Args:
            x (Tensor): (B, 3, H, W) images.
            text (TextFeatures): Words (B, L, C_t) and mask (B, L).

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
            with_stream = stage.downsample is not None
            for block in stage.blocks:
                if use_cp:
                    x = checkpoint(block, x, hw_shape, use_reentrant=False)
                else:
                    x = block(x, hw_shape)
            fused, x = self.fusion.fuse_maybe_checkpointed(
                i, x, hw_shape, text, with_stream, use_cp)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(fused)
                out = out.view(-1, *hw_shape, self.num_features[i])
                outs.append(out.permute(0, 3, 1, 2).contiguous())
            if stage.downsample is not None:
                x, hw_shape = stage.downsample(x, hw_shape)
        return outs
