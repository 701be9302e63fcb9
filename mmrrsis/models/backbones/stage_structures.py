"""How to run staged image backbones of other libraries one stage at a
time, so that :class:`LanguageAwareBackbone` can fuse language between
their stages without copying them.

A *stage structure* knows, for one backbone family, four things that its
``forward`` keeps inside one loop:

- ``run_stage(i, x, hw_shape)``: everything from the output of stage
  ``i - 1`` (for ``i = 0``: the image) to the end of stage ``i``'s blocks:
  the patch embedding or the downsampling that opens the stage (wherever
  the family keeps it), then the blocks;
- ``to_tokens`` / ``from_tokens``: the family's feature layout to and
  from the fusion's (B, N, C) tokens;
- ``output(i, fused, hw_shape)``: the stage's output norm applied to the
  fused tokens, as a (B, C_i, H_i, W_i) map;
- ``channels``: the width of each stage.

Where the downsampling sits differs between families and between
versions of one library: mmpretrain's ``SwinTransformer`` keeps it at the
*end* of a stage (``stages[i].downsample`` after ``stages[i].blocks``, as
mmseg's Swin), its ``SwinTransformerV2`` at the *start* of the next one
(``stages[i + 1].downsample`` before ``stages[i + 1].blocks``), and
``ConvNeXt`` in a separate list (``downsample_layers[i]`` opens stage
``i``; ``downsample_layers[0]`` is the stem). Folding it into
``run_stage(i + 1)`` puts the fusion in the same place for all of them:
after stage i's blocks, before the next downsampling (LAVT).

A new family is one subclass registered with
:func:`register_stage_structure`; :func:`stage_structure_for` picks the
structure of a built backbone.
"""
from typing import List, Optional, Tuple, Type

from torch import Tensor, nn

HWShape = Optional[Tuple[int, int]]

_STRUCTURES: List[Type['StageStructure']] = []


def register_stage_structure(
        cls: Type['StageStructure']) -> Type['StageStructure']:
    """Class decorator: make a :class:`StageStructure` known to
    :func:`stage_structure_for` (later registrations are tried first)."""
    _STRUCTURES.insert(0, cls)
    return cls


def stage_structure_for(backbone: nn.Module) -> 'StageStructure':
    """The structure that runs ``backbone`` stage by stage.

    Args:
        backbone (nn.Module): A built image backbone.

    Returns:
        StageStructure: Bound to ``backbone``.

    Raises:
        TypeError: No registered structure knows the backbone's class
            (names the class and how to add one).
    """
    for cls in _STRUCTURES:
        if cls.matches(backbone):
            return cls(backbone)
    known = ', '.join(name for cls in reversed(_STRUCTURES)
                      for name in cls.families)
    raise TypeError(
        f'LanguageAwareBackbone does not know how to run '
        f'{type(backbone).__module__}.{type(backbone).__name__} stage by '
        f'stage (known: {known}). Add a StageStructure subclass for its '
        'family with @register_stage_structure '
        '(mmrrsis/models/backbones/stage_structures.py; see '
        'docs/add_a_model.md, "a new backbone family").')


class StageStructure:
    """The stage layout of one backbone family (see the module docstring).

    Args:
        backbone (nn.Module): The built backbone; the structure keeps a
            plain reference (it is not a sub-module of the structure).
    """

    #: registry names of the classes this structure runs (for messages)
    families: Tuple[str, ...] = ()

    def __init__(self, backbone: nn.Module) -> None:
        self.backbone = backbone
        self.check()

    @classmethod
    def family_classes(cls) -> Tuple[type, ...]:
        """The backbone classes (imported lazily) this structure runs."""
        raise NotImplementedError

    @classmethod
    def matches(cls, backbone: nn.Module) -> bool:
        """Whether ``backbone`` is of (a subclass of) this family."""
        return isinstance(backbone, cls.family_classes())

    def check(self) -> None:
        """Raise ValueError for settings the stage loop cannot honour."""

    @property
    def num_stages(self) -> int:
        return len(self.backbone.stages)

    @property
    def channels(self) -> List[int]:
        """Width C_i of each stage's output."""
        raise NotImplementedError

    def run_stage(self, index: int, x: Tensor,
                  hw_shape: HWShape) -> Tuple[Tensor, Tuple[int, int]]:
        """Stage ``index``: its opening embedding/downsampling, its blocks.

        Args:
            index (int): Stage index.
            x (Tensor): (B, 3, H, W) images for ``index = 0``, else the
                previous stage's stream in the family's layout.
            hw_shape (tuple[int, int], optional): (H_{i-1}, W_{i-1});
                None for ``index = 0``.

        Returns:
            tuple: The stage's features in the family's layout and
            (H_i, W_i).
        """
        raise NotImplementedError

    def to_tokens(self, x: Tensor) -> Tensor:
        """Family layout -> (B, N, C) tokens, row-major over (H, W)."""
        return x

    def from_tokens(self, tokens: Tensor, hw_shape: Tuple[int,
                                                          int]) -> Tensor:
        """(B, N, C) tokens -> the family's layout."""
        return tokens

    def output(self, index: int, fused: Tensor,
               hw_shape: Tuple[int, int]) -> Tensor:
        """The stage's output norm on the fused tokens.

        Args:
            index (int): Stage index.
            fused (Tensor): (B, N_i, C_i) fused tokens.
            hw_shape (tuple[int, int]): (H_i, W_i).

        Returns:
            Tensor: (B, C_i, H_i, W_i).
        """
        norm = self.norm(index)
        out = norm(fused).view(-1, *hw_shape, fused.shape[-1])
        return out.permute(0, 3, 1, 2).contiguous()

    def norm(self, index: int) -> nn.Module:
        """The backbone's output norm of stage ``index`` (``norm{i}``)."""
        name = f'norm{index}'
        if not hasattr(self.backbone, name):
            raise ValueError(
                f'{type(self.backbone).__name__} has no output norm '
                f'"{name}": include {index} in the out_indices of its config '
                '(LanguageAwareBackbone fills them from its own out_indices '
                'when the encoder config has none).')
        return getattr(self.backbone, name)


def _tokens_from_map(x: Tensor) -> Tensor:
    return x.flatten(2).transpose(1, 2)


def _map_from_tokens(tokens: Tensor, hw_shape: Tuple[int, int]) -> Tensor:
    batch, _, channels = tokens.shape
    return tokens.transpose(1, 2).reshape(batch, channels, *hw_shape)


class _SwinStemMixin:
    """Patch embedding, absolute position embedding and dropout, as
    mmpretrain's Swin and SwinV2 start their ``forward``."""

    backbone: nn.Module

    def embed(self, image: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        from mmpretrain.models.utils import resize_pos_embed
        net = self.backbone
        x, hw_shape = net.patch_embed(image)
        if net.use_abs_pos_embed:
            x = x + resize_pos_embed(net.absolute_pos_embed,
                                     net.patch_resolution, hw_shape,
                                     net.interpolate_mode,
                                     net.num_extra_tokens)
        return net.drop_after_pos(x), hw_shape

    def check_padding(self) -> None:
        if not all(block.attn.pad_small_map for stage in self.backbone.stages
                   for block in stage.blocks):
            raise ValueError(
                f'{type(self.backbone).__name__} needs pad_small_map=True '
                'under LanguageAwareBackbone: segmentation inputs give '
                'feature maps smaller than the window (mmpretrain otherwise '
                'asserts or drops the shift; mmseg\'s Swin always pads).')


@register_stage_structure
class SwinStages(_SwinStemMixin, StageStructure):
    """mmpretrain's ``SwinTransformer``: ``stages[i].blocks``, then
    ``stages[i].downsample`` closes stage i (run here at the start of
    stage i + 1, after the fusion); output norms ``norm{i}`` on tokens."""

    families = ('mmpretrain.SwinTransformer', )

    @classmethod
    def family_classes(cls) -> Tuple[type, ...]:
        from mmpretrain.models.backbones import SwinTransformer
        return (SwinTransformer, )

    def check(self) -> None:
        if self.backbone.out_after_downsample:
            raise ValueError(
                'SwinTransformer(out_after_downsample=True) outputs the '
                'merged map; LAVT fuses before merging: set it to False.')
        self.check_padding()

    @property
    def channels(self) -> List[int]:
        return [stage.embed_dims for stage in self.backbone.stages]

    def run_stage(self, index, x, hw_shape):
        if index == 0:
            x, hw_shape = self.embed(x)
        else:
            x, hw_shape = self.backbone.stages[index - 1].downsample(
                x, hw_shape)
        for block in self.backbone.stages[index].blocks:
            x = block(x, hw_shape)
        return x, hw_shape


@register_stage_structure
class SwinV2Stages(_SwinStemMixin, StageStructure):
    """mmpretrain's ``SwinTransformerV2``: ``stages[i].downsample`` (i > 0)
    opens stage i, before its blocks, so ``stages[i](x, hw)`` is exactly
    one step of the loop; output norms ``norm{i}`` on tokens."""

    families = ('mmpretrain.SwinTransformerV2', )

    @classmethod
    def family_classes(cls) -> Tuple[type, ...]:
        from mmpretrain.models.backbones import SwinTransformerV2
        return (SwinTransformerV2, )

    def check(self) -> None:
        self.check_padding()

    @property
    def channels(self) -> List[int]:
        return [stage.out_channels for stage in self.backbone.stages]

    def run_stage(self, index, x, hw_shape):
        if index == 0:
            x, hw_shape = self.embed(x)
        return self.backbone.stages[index](x, hw_shape)


@register_stage_structure
class ConvNeXtStages(StageStructure):
    """mmpretrain's ``ConvNeXt``: ``downsample_layers[i]`` (the stem for
    i = 0) then ``stages[i]`` on (B, C, H, W) maps; output norms
    ``norm{i}`` are channels-first LayerNorms on maps."""

    families = ('mmpretrain.ConvNeXt', )

    @classmethod
    def family_classes(cls) -> Tuple[type, ...]:
        from mmpretrain.models.backbones import ConvNeXt
        return (ConvNeXt, )

    @property
    def channels(self) -> List[int]:
        return list(self.backbone.channels)

    def run_stage(self, index, x, hw_shape):
        x = self.backbone.downsample_layers[index](x)
        x = self.backbone.stages[index](x)
        return x, tuple(x.shape[-2:])

    to_tokens = staticmethod(_tokens_from_map)
    from_tokens = staticmethod(_map_from_tokens)

    def output(self, index, fused, hw_shape):
        return self.norm(index)(_map_from_tokens(fused, hw_shape))


__all__ = [
    'StageStructure', 'SwinStages', 'SwinV2Stages', 'ConvNeXtStages',
    'register_stage_structure', 'stage_structure_for'
]
