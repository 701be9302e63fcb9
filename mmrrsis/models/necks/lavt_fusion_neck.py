"""LAVT's fusion applied late, as a neck after any image backbone."""
from typing import List, Sequence

from torch import Tensor

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptMultiConfig

from .base_text_neck import BaseTextNeck


@MODELS.register_module()
class LAVTFusionNeck(BaseTextNeck):
    """Late fusion: LAVT's pixel-word attention and gate on each output map
    of a plain image backbone (ResNet, MiT, ...).

    For each map ``X_i`` (B, C_i, H_i, W_i), with the fusion
    :class:`~mmrrsis.models.fusions.PWAMFusion` (``self.fusion``)::

        F_i  = PWAM_i(X_i, W, M)
        X_i' = X_i + gate_i(F_i) * F_i         returned, shape of X_i

    The gated maps are returned, so the gates must be able to open
    (``gate_init='default'`` or ``'last'``; LAVT's ``'zeros'`` keeps them
    closed and the output equal to the input). For early fusion inside the
    backbone use :class:`~mmrrsis.models.backbones.LanguageAwareSwin`
    with a fusion config instead.

    State dicts written before the fusion became its own module
    (``pwams.*``, ``gates.*`` at the neck's top level) are renamed to
    ``fusion.pwams.*`` / ``fusion.gates.*`` when loaded.

    Args:
        in_channels (Sequence[int]): Channels of each map.
        text_channels (int): Word feature channels. Defaults to 768.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
        **kwargs: Other arguments of :class:`PWAMFusion` (``num_heads``,
            ``attn_scale``, ``dropout``, ``gate_init``, ``fp32_in_amp``).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 text_channels: int = 768,
                 init_cfg: OptMultiConfig = None,
                 **kwargs) -> None:
        super().__init__(in_channels, text_channels, init_cfg=init_cfg)
        self.fusion = MODELS.build(
            dict(
                type='mmrrsis.PWAMFusion',
                in_channels=self.in_channels,
                text_channels=text_channels,
                **kwargs))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for old in [k for k in state_dict
                    if k.startswith((prefix + 'pwams.', prefix + 'gates.'))]:
            state_dict[prefix + 'fusion.' + old[len(prefix):]] = \
                state_dict.pop(old)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, inputs: Sequence[Tensor],
                text: TextFeatures) -> List[Tensor]:
        """Late fusion on multi-scale maps.

        Args:
            inputs (Sequence[Tensor]): Maps (B, C_i, H_i, W_i), one per
                entry of ``in_channels``.
            text (TextFeatures): Words (B, L, C_t) and mask (B, L).

        Returns:
            list[Tensor]: The gated maps ``X_i'``, shapes as the inputs.
        """
        outs = []
        for i, feat in enumerate(self.check_inputs(inputs)):
            B, C, H, W = feat.shape
            tokens = feat.flatten(2).transpose(1, 2)
            _, tokens = self.fusion.fuse(i, tokens, (H, W), text)
            outs.append(tokens.transpose(1, 2).reshape(B, C, H, W))
        return outs
