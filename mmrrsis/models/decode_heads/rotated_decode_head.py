"""RMSIN's decoder: LAVT's progressive decoder with adaptive rotated
convolutions."""
from mmcv.cnn import ConvModule

from mmrrsis.models.utils import AdaptiveRotatedConv2d
from mmrrsis.registry import MODELS

from .referring_decode_head import ReferringDecodeHead


@MODELS.register_module()
class RotatedDecodeHead(ReferringDecodeHead):
    """LAVT's progressive decoder whose last conv of every fusion step is an
    adaptive rotated convolution (RMSIN).

    Each fusion step is ``num_convs - 1`` plain 3x3 conv + BN + ReLU and
    one :class:`~mmrrsis.models.utils.AdaptiveRotatedConv2d` + BN + ReLU
    (RMSIN: ``num_convs=2``, one kernel per sample, angles within +-40
    degrees, routing dropout 0.2). Everything else (upsampling, the final
    1x1 ``conv_seg``, the default loss) is :class:`ReferringDecodeHead`.
    Like RMSIN's decoder it sees only the fused maps, not the text.

    Args:
        kernel_number (int): Kernels mixed per sample by each rotated
            convolution. Defaults to 1.
        routing_dropout (float): Dropout of the rotation routing.
            Defaults to 0.2.
        max_angle (float): Largest rotation in degrees. Defaults to 40.
        **kwargs: Arguments of :class:`ReferringDecodeHead`
            (``num_convs`` defaults to 2 there).
    """

    def __init__(self,
                 kernel_number: int = 1,
                 routing_dropout: float = 0.2,
                 max_angle: float = 40.,
                 **kwargs) -> None:
        self.rotated_conv_cfg = dict(
            type=AdaptiveRotatedConv2d,
            kernel_number=kernel_number,
            routing_dropout=routing_dropout,
            max_angle=max_angle)
        super().__init__(**kwargs)

    def fuse_conv(self, index: int, in_channels: int) -> ConvModule:
        """A plain 3x3 ConvModule, or the rotated one for the last conv of
        a step."""
        if index < self.num_convs - 1:
            return super().fuse_conv(index, in_channels)
        return ConvModule(
            in_channels,
            self.channels,
            3,
            padding=1,
            bias=False,
            conv_cfg=self.rotated_conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
