"""SAM 2's image encoder (Hiera + FPN neck) on transformers' modules."""
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseModule, initialize
from torch import Tensor, nn

from mmrrsis.models.utils.hf_towers import (
    checkpoint_layers,
    load_pretrained,
    normalize_channels,
    say_loaded,
)
from mmrrsis.models.utils.lora import adapt_or_freeze, load_base_weights
from mmrrsis.registry import MODELS
from mmrrsis.utils import OptConfigType, OptMultiConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def sam2_config(vision_config: dict, prompt_encoder_config: dict = None,
                mask_decoder_config: dict = None):
    """A ``transformers.Sam2Config`` from plain dicts.

    Args:
        vision_config (dict): ``Sam2VisionConfig`` keyword arguments, with
            ``backbone_config`` as ``Sam2HieraDetConfig`` keyword
            arguments.
        prompt_encoder_config (dict, optional): ``Sam2PromptEncoderConfig``
            keyword arguments. Defaults to None (SAM 2's).
        mask_decoder_config (dict, optional): ``Sam2MaskDecoderConfig``
            keyword arguments. Defaults to None (SAM 2's).

    Returns:
        transformers.Sam2Config: The config.
    """
    from transformers import Sam2Config
    return Sam2Config(
        vision_config=dict(vision_config),
        prompt_encoder_config=dict(prompt_encoder_config or {}),
        mask_decoder_config=dict(mask_decoder_config or {}))


def load_sam2_pretrained(name: str, option: str) -> dict:
    """The weights of a pretrained SAM 2 in transformers' ``Sam2Model``
    names.

    Args:
        name (str): A ``Sam2Model`` folder or hub id (e.g.
            ``'facebook/sam2.1-hiera-large'``), or a file of facebook's
            SAM 2 release (``sam2.1_hiera_large.pt``, key ``model``), whose
            names are converted.
        option (str): The config key naming it, for errors.

    Returns:
        dict: ``Sam2Model`` state dict.
    """
    if osp.isfile(name):
        from mmrrsis.compat import load_checkpoint_file
        from mmrrsis.models.converters.rsrefseg2 import sam2_to_transformers
        checkpoint = load_checkpoint_file(name, map_location='cpu')
        state = checkpoint.get('model', checkpoint)
        return sam2_to_transformers(state, source=name)
    from transformers import Sam2Model
    return load_pretrained(Sam2Model.from_pretrained, name,
                           option).state_dict()


@MODELS.register_module()
class SAM2ImageEncoder(BaseModule):
    """SAM 2's image encoder: Hiera, the FPN neck and SAM 2's "no memory"
    embedding, as RSRefSeg2 and SAM 2's image predictor use them.

    Takes images in [0, 1] (RGB), normalises them with ImageNet's mean and
    std, runs ``transformers``' ``Sam2VisionModel`` and returns the last
    ``num_feature_levels`` (3) FPN maps from high to low resolution::

        [(B, C, H/4, W/4), (B, C, H/8, W/8), (B, C, H/16, W/16)]

    with C the FPN width (256), and ``no_mem_embed`` (1, 1, C) added to the
    last one (SAM 2 adds it to single images in place of a memory). SAM 2's
    mask decoder projects the first two maps (``conv_s0`` / ``conv_s1``);
    that is the decode head's part
    (:class:`~mmrrsis.models.decode_heads.SAM2MaskHead`).

    Weights: architecture ``vision_config`` (``Sam2VisionConfig`` keyword
    arguments with ``backbone_config`` for Hiera), random; :meth:`init_weights`
    loads ``pretrained`` (see :func:`load_sam2_pretrained`). ``lora`` puts
    LoRA adapters on the encoder and freezes it; ``freeze=True`` without
    LoRA freezes it entirely. ``no_mem_embed`` stays trainable.

    Args:
        vision_config (dict): ``Sam2VisionConfig`` keyword arguments.
        pretrained (str, optional): SAM 2 weights. Defaults to None.
        mean (Sequence[float]): Per-channel mean, [0, 1] scale. Defaults
            to ImageNet's.
        std (Sequence[float]): Per-channel std. Defaults to ImageNet's.
        lora (dict, optional): LoRA config (peft), names relative to the
            ``Sam2VisionModel`` (``backbone.blocks.N.attn.qkv``,
            ``neck.convs.N``). Defaults to None.
        with_cp (bool): Gradient checkpointing of the encoder's blocks
            (:func:`~mmrrsis.models.utils.hf_towers.checkpoint_layers`).
            Defaults to False.
        freeze (bool): Freeze the encoder when there is no LoRA. Defaults
            to False.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 vision_config: dict,
                 pretrained: Optional[str] = None,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 lora: OptConfigType = None,
                 freeze: bool = False,
                 with_cp: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers import Sam2VisionModel
        config = sam2_config(vision_config).vision_config
        self.sam = Sam2VisionModel(config)
        self.num_levels = config.num_feature_levels
        self.out_channels = config.fpn_hidden_size
        self.no_mem_embed = nn.Parameter(torch.zeros(1, 1,
                                                     self.out_channels))
        self.pretrained = pretrained
        self.lora = None if lora is None else dict(lora)
        # kept as numbers: made in the input's dtype, so a float64 model
        # normalises with float64 values
        self.mean = tuple(float(v) for v in mean)
        self.std = tuple(float(v) for v in std)
        adapt_or_freeze(self.sam, self.lora, freeze, 'backbone')
        if with_cp:
            checkpoint_layers(self.sam)

    def init_weights(self) -> None:
        """Load ``pretrained``, or apply ``init_cfg``; never re-initialise
        the encoder."""
        if self.init_cfg:
            initialize(self, self.init_cfg)
        if self.pretrained is not None:
            state = load_sam2_pretrained(self.pretrained,
                                         'model.backbone.pretrained')
            prefix = 'vision_encoder.'
            load_base_weights(
                self.sam, {
                    k[len(prefix):]: v
                    for k, v in state.items() if k.startswith(prefix)
                }, 'model.backbone')
            self.no_mem_embed.data.copy_(state['no_memory_embedding'])
            say_loaded(type(self).__name__, self.pretrained, self.lora)
        self._is_init = True

    def forward(self, inputs: Tensor) -> List[Tensor]:
        """FPN maps of the images.

        Args:
            inputs (Tensor): (B, 3, H, W) RGB images in [0, 1].

        Returns:
            list[Tensor]: ``num_feature_levels`` maps (B, C, H_i, W_i),
            high to low resolution, ``no_mem_embed`` added to the last.
        """
        x = normalize_channels(inputs, self.mean, self.std)
        out = self.sam(x)
        feats = list(out.fpn_hidden_states)
        feats[-1] = feats[-1] + self.no_mem_embed.view(1, -1, 1, 1).to(
            feats[-1].dtype)
        return feats


__all__ = ['SAM2ImageEncoder', 'load_sam2_pretrained', 'sam2_config']
