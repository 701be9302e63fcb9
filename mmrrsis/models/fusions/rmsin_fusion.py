"""RMSIN's stage fusion: LAVT's PWAM and gate plus an intra-scale
interaction of the visual tokens."""
from collections import OrderedDict
from typing import List, Tuple

from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule, ModuleList
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

from .pwam_fusion import PWAMFusion, init_gate, language_gate


class RepConvBlock(BaseModule):
    """Sum of three parallel branches on a 1-channel map (RMSIN's
    re-parameterisable block): 1x1 conv + BN, (1x1 conv + BN, 3x3 conv +
    BN), and BN alone.

    Args:
        norm_cfg (dict, optional): Norm layer. Defaults to BN.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = norm_cfg or dict(type='BN')

        def bn():
            return build_norm_layer(norm_cfg, 1)[1]

        self.pointwise = nn.Sequential(
            OrderedDict(conv=nn.Conv2d(1, 1, 1, bias=False), bn=bn()))
        self.serial = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(1, 1, 1, bias=False),
                bn1=bn(),
                conv2=nn.Conv2d(1, 1, 3, padding=1, bias=False),
                bn2=bn()))
        self.identity = bn()

    def forward(self, x: Tensor) -> Tensor:
        """(B, 1, H, W) in and out."""
        return self.pointwise(x) + self.serial(x) + self.identity(x)


class IntraScaleInteraction(BaseModule):
    """RMSIN's intra-scale interaction (``VariousReceptive``).

    A spatial weight from the channel mean of the tokens, through two
    :class:`RepConvBlock` with a ReLU between and a sigmoid, scales every
    token::

        m = mean_c X  as (B, 1, H, W)
        V = X * sigmoid(Rep_2(ReLU(Rep_1(m))))

    It sees no language. The reference reads the map size from
    ``sqrt(N)`` (square maps only); here it is the stage's ``hw_shape``.

    Args:
        norm_cfg (dict, optional): Norm layer of the blocks. Defaults to
            BN.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.blocks = ModuleList(
            [RepConvBlock(norm_cfg), RepConvBlock(norm_cfg)])

    def forward(self, x: Tensor, hw_shape: Tuple[int, int]) -> Tensor:
        """Weight the tokens of one stage.

        Args:
            x (Tensor): (B, N, C) tokens, row-major over ``hw_shape``.
            hw_shape (tuple[int, int]): (H, W), H * W = N.

        Returns:
            Tensor: (B, N, C) weighted tokens V.
        """
        B, N, _ = x.shape
        mean = x.mean(dim=-1).reshape(B, 1, *hw_shape)
        weight = self.blocks[1](self.blocks[0](mean).relu()).sigmoid()
        return x * weight.reshape(B, N, 1)


@MODELS.register_module()
class RMSINFusion(PWAMFusion):
    """The stage fusion of RMSIN: PWAM and language gate as LAVT, plus the
    intra-scale interaction with its own gate on the stream.

    For stage i with tokens ``X_i`` (after the stage's blocks)::

        F_i  = PWAM_i(X_i, W, M)                 fused: to the decoder
        V_i  = Intra_i(X_i)                      (no language)
        X_i' = X_i + gate_i(F_i) F_i + vgate_i(V_i) V_i     stream

    Only the stream uses the gates and the intra-scale module, so in the
    last stage (no patch merging) they are frozen and not computed
    (:meth:`stream_modules`): the reference computes them there, drops the
    result and trains with ``find_unused_parameters=True``. RMSIN's
    backbone initialises every linear layer, the gates included, with a
    truncated normal of std 0.02: ``gate_init='trunc_normal'``.

    The intra-scale module holds BatchNorms: with the backbone's
    ``with_cp=True`` the fusion runs again in the backward pass, so their
    running statistics are updated twice per training step (the outputs
    and gradients are unchanged).

    Args:
        in_channels (Sequence[int]): Channels of each fused stage.
        norm_cfg (dict, optional): Norm of the intra-scale modules.
            Defaults to BN.
        **kwargs: Other arguments of :class:`PWAMFusion`.
    """

    def __init__(self, in_channels, norm_cfg: OptConfigType = None,
                 **kwargs) -> None:
        super().__init__(in_channels, **kwargs)
        self.intra = ModuleList(
            [IntraScaleInteraction(norm_cfg) for _ in self.in_channels])
        self.visual_gates = ModuleList(
            [language_gate(c) for c in self.in_channels])
        for gate in self.visual_gates:
            init_gate(gate, self.gate_init)

    def init_weights(self) -> None:
        """PWAMs and language gates as :class:`PWAMFusion`, visual gates as
        ``gate_init``."""
        super().init_weights()
        if not self.init_cfg:
            for gate in self.visual_gates:
                for layer in (gate[0], gate[2]):
                    layer.reset_parameters()
                init_gate(gate, self.gate_init)

    def fuse(self, index: int, x: Tensor, hw_shape: Tuple[int, int],
             text: TextFeatures,
             with_stream: bool = True) -> Tuple[Tensor, Tensor]:
        """``F_i`` and ``X_i'`` of stage ``index`` (see
        :meth:`BaseFusion.fuse`)."""
        fused = self.pwams[index](x, text.words, text.mask)
        if with_stream:
            visual = self.intra[index](x, hw_shape)
            x = (x + self.gates[index](fused) * fused +
                 self.visual_gates[index](visual) * visual)
        return fused, x

    def stream_modules(self, index: int) -> List[nn.Module]:
        """The language gate, intra-scale module and visual gate of stage
        ``index``."""
        return [self.gates[index], self.intra[index], self.visual_gates[index]]


__all__ = ['IntraScaleInteraction', 'RMSINFusion', 'RepConvBlock']
