"""Language fusion between the stages of another library's backbone."""
import copy
from typing import List, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmrrsis.models.fusions import build_stage_fusion
from mmrrsis.models.utils import TextConditioned, TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import ConfigType, OptConfigType, OptMultiConfig

from .stage_structures import stage_structure_for


@MODELS.register_module()
class LanguageAwareBackbone(BaseModule, TextConditioned):
    """A staged image backbone, built unchanged from its own registry, with
    a language fusion after each stage (LAVT's pattern on any family).

    The image backbone is ``encoder``, e.g.
    ``dict(type='mmpretrain.ConvNeXt', arch='base', ...)``: mmpretrain's
    own class, so its checkpoints, ``init_cfg`` (``prefix='backbone.'``
    for its classification checkpoints), loading hooks, ``frozen_stages``,
    ``with_cp`` and layer-wise learning-rate decay work as in mmpretrain.
    What differs between families (where the patch embedding and the
    downsampling sit, the token layout, the output norms) is the
    family's :class:`~mmrrsis.models.backbones.StageStructure`,
    picked from the built encoder's class (mmpretrain's
    ``SwinTransformer``, ``SwinTransformerV2`` and ``ConvNeXt`` are
    known). The loop is the one of
    :class:`~mmrrsis.models.backbones.LanguageAwareSwin`::

        X_0 = image
        for stage i:
            X_i        = stage_i(X_{i-1})       embedding/downsampling + blocks
            F_i, X_i   = fusion.fuse(i, tokens(X_i), (H_i, W_i), text)
            out_i      = norm_i(F_i) as (B, C_i, H_i, W_i)

    so the fusion sits after each stage's blocks and before the next
    downsampling, the output norm ``norm{i}`` of the encoder is applied to
    the fused map (LAVT), and the last stage's stream-only modules
    (``fusion.stream_modules``) are kept but frozen.

    ``with_cp=True`` checkpoints each stage's fusion; the encoder's blocks
    take the encoder's own ``with_cp``.

    Args:
        encoder (dict): Config of the image backbone, built with
            ``MODELS.build`` (a scope prefix such as ``mmpretrain.`` selects
            its registry). ``out_indices`` is filled in from ``out_indices``
            when absent, so that the encoder builds its output norms.
        fusion_cfg (dict, optional): Config of the fusion
            (:class:`~mmrrsis.models.fusions.BaseFusion`); ``in_channels``
            is filled in from the stage widths when absent. None means
            ``dict(type='mmrrsis.PWAMFusion', text_channels=768)``.
            Defaults to None.
        out_indices (Sequence[int]): Stages whose normalised fused maps
            are returned. Defaults to (0, 1, 2, 3).
        with_cp (bool): Gradient checkpointing of the fusions. Defaults
            to False.
        init_cfg (dict, optional): Initialisation config of the wrapper
            (pretrained encoder weights belong in ``encoder.init_cfg``).
            Defaults to None.
    """

    def __init__(self,
                 encoder: ConfigType,
                 fusion_cfg: OptConfigType = None,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        encoder = copy.deepcopy(dict(encoder))
        # mmpretrain's ConvNeXt rewrites negative entries in place: a list
        encoder.setdefault('out_indices', list(out_indices))
        self.encoder = MODELS.build(encoder)
        self.structure = stage_structure_for(self.encoder)
        self.num_stages = self.structure.num_stages
        self.out_indices = tuple(out_indices)
        bad = [i for i in self.out_indices if not 0 <= i < self.num_stages]
        if bad:
            raise ValueError(f'out_indices {bad} outside the encoder\'s '
                             f'{self.num_stages} stages.')
        for i in self.out_indices:
            self.structure.norm(i)  # raises, naming the missing norm
        self.channels = self.structure.channels
        self.with_cp = with_cp
        self.fusion = build_stage_fusion(fusion_cfg, self.channels,
                                         type(self.encoder).__name__)
        for module in self.fusion.stream_modules(self.num_stages - 1):
            module.requires_grad_(False)

    def forward(self, x: Tensor, text: TextFeatures) -> List[Tensor]:
        """Encode an image batch under the guidance of its expressions.

        Args:
            x (Tensor): (B, 3, H, W) images.
            text (TextFeatures): Words (B, L, C_t) and mask (B, L).

        Returns:
            list[Tensor]: For each index in ``out_indices``, the normalised
            fused map (B, C_i, H_i, W_i) (strides 4, 8, 16, 32 for the
            known families).
        """
        structure = self.structure
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        outs = []
        hw_shape = None
        for i in range(self.num_stages):
            x, hw_shape = structure.run_stage(i, x, hw_shape)
            with_stream = i < self.num_stages - 1
            tokens = structure.to_tokens(x)
            fused, stream = self.fusion.fuse_maybe_checkpointed(
                i, tokens, hw_shape, text, with_stream, use_cp)
            if i in self.out_indices:
                outs.append(structure.output(i, fused, hw_shape))
            if with_stream:
                x = structure.from_tokens(stream, hw_shape)
        return outs


__all__ = ['LanguageAwareBackbone']
