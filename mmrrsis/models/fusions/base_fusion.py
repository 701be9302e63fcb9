"""The interface of the per-stage language fusion of a language-aware
backbone."""
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Sequence, Tuple

from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from mmrrsis.models.utils import MultiScaleTextModule, TextFeatures
from mmrrsis.registry import MODELS


class BaseFusion(MultiScaleTextModule, metaclass=ABCMeta):
    """Language fusion called by a language-aware backbone, stage by stage.

    After the blocks of stage i and before its patch merging, the
    backbone (e.g. :class:`~mmrrsis.models.backbones.LanguageAwareSwin`)
    calls::

        fused, stream = fusion.fuse(i, x, hw_shape, text, with_stream)

    - ``x`` (B, N_i, C_i): the stage's tokens, row-major over
      ``hw_shape = (H_i, W_i)``, ``N_i = H_i * W_i``, ``C_i =
      in_channels[i]``;
    - ``text``: the :class:`~mmrrsis.models.utils.TextFeatures` of the
      batch (words (B, L, text_channels), mask (B, L));
    - ``fused`` (B, N_i, C_i): the language-aware map, which the backbone
      normalises and outputs for the neck/decoder;
    - ``stream`` (B, N_i, C_i): what continues into patch merging and the
      next stage.

    ``with_stream=False`` is the last stage, whose stream goes nowhere:
    the fusion then returns ``x`` itself as the stream and must not
    compute what only the stream uses. Those modules are listed by
    :meth:`stream_modules`; the backbone freezes them for its last stage,
    so they get no gradient by design and distributed training needs no
    ``find_unused_parameters`` (they stay in the state dict, so reference
    checkpoints that hold them load strictly).

    Args:
        in_channels (Sequence[int]): C_i of each fused stage.
        text_channels (int): Width C_t of the word features.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    @abstractmethod
    def fuse(self,
             index: int,
             x: Tensor,
             hw_shape: Tuple[int, int],
             text: TextFeatures,
             with_stream: bool = True) -> Tuple[Tensor, Tensor]:
        """Fuse the words into stage ``index``.

        Args:
            index (int): Stage index into ``in_channels``.
            x (Tensor): (B, N_i, C_i) tokens after the stage's blocks.
            hw_shape (tuple[int, int]): (H_i, W_i) with H_i W_i = N_i.
            text (TextFeatures): The batch's text record.
            with_stream (bool): Compute the stream (False: return ``x``).
                Defaults to True.

        Returns:
            tuple[Tensor, Tensor]: ``fused`` and ``stream``, both
            (B, N_i, C_i).
        """

    @abstractmethod
    def stream_modules(self, index: int) -> List[nn.Module]:
        """The modules of stage ``index`` that only the stream uses."""

    def fuse_maybe_checkpointed(self,
                                index: int,
                                x: Tensor,
                                hw_shape: Tuple[int, int],
                                text: TextFeatures,
                                with_stream: bool = True,
                                use_cp: bool = False) -> Tuple[Tensor, Tensor]:
        """:meth:`fuse`, under non-reentrant gradient checkpointing when
        ``use_cp`` (the backbone's ``with_cp`` during training)."""
        if use_cp:
            return checkpoint(
                self.fuse, index, x, hw_shape, text,
                with_stream=with_stream, use_reentrant=False)
        return self.fuse(index, x, hw_shape, text, with_stream=with_stream)


def build_stage_fusion(fusion_cfg: Optional[dict],
                       stage_channels: Sequence[int],
                       owner: str) -> BaseFusion:
    """Build a backbone's fusion, its widths checked against the stages.

    Args:
        fusion_cfg (dict, optional): The fusion's config; ``in_channels``
            is filled in from ``stage_channels`` when absent. None means
            ``dict(type='mmrrsis.PWAMFusion', text_channels=768)`` (LAVT).
        stage_channels (Sequence[int]): C_i of each stage.
        owner (str): The backbone, named in the error.

    Returns:
        BaseFusion: The built fusion.

    Raises:
        ValueError: ``in_channels`` given and not the stage widths.
    """
    fusion_cfg = dict(fusion_cfg or dict(
        type='mmrrsis.PWAMFusion', text_channels=768))
    fusion_cfg.setdefault('in_channels', list(stage_channels))
    if list(fusion_cfg['in_channels']) != list(stage_channels):
        raise ValueError(
            f'fusion in_channels {list(fusion_cfg["in_channels"])} must '
            f'match the stage widths {list(stage_channels)} of {owner}.')
    return MODELS.build(fusion_cfg)


__all__ = ['BaseFusion', 'build_stage_fusion']
