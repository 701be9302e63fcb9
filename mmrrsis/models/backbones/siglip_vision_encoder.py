"""SigLIP vision tower: an image in, patch tokens aligned with the text
tower out."""
from typing import Optional, Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule, initialize
from torch import Tensor

from mmrrsis.models.utils.hf_towers import (
    checkpoint_layers,
    load_pretrained,
    normalize_channels,
    say_loaded,
)
from mmrrsis.models.utils.lora import adapt_or_freeze, load_base_weights
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig


@MODELS.register_module()
class SiglipVisionEncoder(BaseModule):
    """The vision tower of SigLIP (or SigLIP 2 at a fixed resolution).

    Takes images with values in [0, 1] (RGB), normalises them with
    ``mean`` / ``std`` (SigLIP's 0.5 / 0.5), resizes them bilinearly to the
    tower's ``image_size`` and returns the patch tokens after the last
    layer norm, (B, N, C) with N = (image_size / patch_size)^2, in row-major
    order. SigLIP's attention-pooling head is kept (its weights are part of
    the pretrained model and of RSRefSeg2's checkpoint, LoRA included) but
    not run: no component uses the pooled image vector.

    Weights: the architecture is ``vision_config``
    (``transformers.SiglipVisionConfig`` keyword arguments), built with
    random weights; :meth:`init_weights` loads those of ``pretrained``.
    ``lora`` puts LoRA adapters on the tower and freezes the rest;
    ``freeze=True`` without LoRA freezes it entirely.

    Args:
        vision_config (dict): ``SiglipVisionConfig`` keyword arguments.
        pretrained (str, optional): SigLIP folder or hub id. Defaults to
            None (random weights).
        mean (Sequence[float]): Per-channel mean on the [0, 1] scale.
            Defaults to (0.5, 0.5, 0.5).
        std (Sequence[float]): Per-channel std. Defaults to
            (0.5, 0.5, 0.5).
        lora (dict, optional): LoRA config (peft). Defaults to None.
        with_cp (bool): Gradient checkpointing of the tower's layers
            (:func:`~mmrrsis.models.utils.hf_towers.checkpoint_layers`).
            Defaults to False.
        freeze (bool): Freeze the tower when there is no LoRA. Defaults to
            False.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 vision_config: dict,
                 pretrained: Optional[str] = None,
                 mean: Sequence[float] = (0.5, 0.5, 0.5),
                 std: Sequence[float] = (0.5, 0.5, 0.5),
                 lora: OptConfigType = None,
                 freeze: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import SiglipVisionConfig, SiglipVisionModel
        config = SiglipVisionConfig(**dict(vision_config))
        self.siglip = SiglipVisionModel(config).vision_model
        self.pretrained = pretrained
        self.lora = None if lora is None else dict(lora)
        self.image_size = config.image_size
        self.grid_size = config.image_size // config.patch_size
        self.out_channels = config.hidden_size
        # kept as numbers: made in the input's dtype, so a float64 model
        # normalises with float64 values
        self.mean = tuple(float(v) for v in mean)
        self.std = tuple(float(v) for v in std)
        adapt_or_freeze(self.siglip, self.lora, freeze, 'vision_encoder')
        if with_cp:
            checkpoint_layers(self.siglip)

    def init_weights(self) -> None:
        """Load ``pretrained``, or apply ``init_cfg``; never re-initialise
        the tower."""
        if self.init_cfg:
            initialize(self, self.init_cfg)
        if self.pretrained is not None:
            from transformers import SiglipVisionModel
            model = load_pretrained(SiglipVisionModel.from_pretrained,
                                    self.pretrained,
                                    'model.vision_encoder.pretrained')
            load_base_weights(self.siglip, model.vision_model.state_dict(),
                              'model.vision_encoder')
            say_loaded(type(self).__name__, self.pretrained, self.lora)
        self._is_init = True

    def forward(self, inputs: Tensor) -> Tensor:
        """Patch tokens of the images.

        Args:
            inputs (Tensor): (B, 3, H, W) RGB images in [0, 1].

        Returns:
            Tensor: (B, N, C) tokens, N = grid_size ** 2.
        """
        x = normalize_channels(inputs, self.mean, self.std)
        x = F.interpolate(
            x,
            size=(self.image_size, self.image_size),
            mode='bilinear',
            align_corners=False)
        tower = self.siglip
        x = tower.embeddings(x.to(tower.embeddings.patch_embedding.weight.
                                  dtype))
        x = tower.encoder(inputs_embeds=x).last_hidden_state
        return tower.post_layernorm(x)


__all__ = ['SiglipVisionEncoder']
