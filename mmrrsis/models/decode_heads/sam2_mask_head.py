"""SAM 2's prompt encoder and mask decoder as a decode head, with
RSRefSeg2's losses."""
import math
from typing import List, NamedTuple, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from torch import Tensor, nn

from mmrrsis.models.backbones.sam2_image_encoder import (
    load_sam2_pretrained,
    sam2_config,
)
from mmrrsis.models.prompters import PrompterOutput
from mmrrsis.registry import MODELS
from mmrrsis.utils import ConfigType, OptMultiConfig, SampleList


class SAM2ImageFeatures(NamedTuple):
    """SAM 2's image side, ready for the mask decoder.

    Attributes:
        embed (Tensor): (B, C, h, w) image embedding (stride 16, "no
            memory" embedding added).
        high_res (tuple[Tensor, Tensor]): (B, C/8, 4h, 4w) and
            (B, C/4, 2h, 2w), the stride-4 and stride-8 maps projected by
            the decoder's ``conv_s0`` / ``conv_s1``.
    """

    embed: Tensor
    high_res: tuple


@MODELS.register_module()
class SAM2MaskHead(BaseModule):
    """SAM 2's prompt encoder and mask decoder (``transformers``' modules)
    turning a prompter's prompts into one mask, and RSRefSeg2's losses.

    Call flow::

        image  = head.prepare(backbone_feats)           # once per image:
                                                        # conv_s0 / conv_s1
        logits = head(image, prompts)                   # (B, 1, 4h, 4w)
            dense  = prompt_encoder.mask_embed(prompts.dense)     (B, C, h, w)
            masks  = mask_decoder(image.embed, pe, prompts.sparse, dense,
                                  multimask_output=False, image.high_res)

    ``pe`` is SAM's random-Fourier position grid of the h x w embedding.
    With ``dynamic_multimask=True`` (SAM 2's image predictor's setting,
    and RSRefSeg2's, whose SAM 2 build turns it on), in **eval mode** the
    decoder's single mask is replaced by the best of its three other masks
    (by predicted IoU) when it is unstable: when the IoU between
    ``logits > delta`` and ``logits > -delta`` is below ``thresh``
    (0.05 / 0.98). Training always uses the single mask. Set it False to
    always get the single mask.

    Losses (:meth:`loss`): the logits are resized to the label's size
    (bilinear) and scored by ``loss_decode`` (RSRefSeg2: 5 x BCE with
    mmseg's ``CrossEntropyLoss(use_sigmoid=True)`` + 5 x
    :class:`SigmoidDiceLoss`), plus ``query_loss``
    (:class:`QuerySeparationLoss` on the prompter's two query sets) and
    ``contrastive_loss`` (:class:`MaskTextContrastiveLoss` between the
    SigLIP image map inside the ground truth and the second query set).

    Of the trainable parameters, a training step does not reach those used
    only by the eval-time fallback (the IoU head and the mask MLPs 1-3),
    the object-score head, the point embeddings (no point prompts), and
    ``pixel_logit_scale`` / ``pixel_logit_bias``: RSRefSeg2's head holds
    them for a per-pixel text loss its recipe switches off; they are kept
    so that its checkpoint loads strictly and the parameter count is
    its own.

    Args:
        vision_config (dict): SAM 2's ``Sam2VisionConfig`` keyword
            arguments (the FPN width sets the decoder's).
        prompt_encoder_config (dict): ``Sam2PromptEncoderConfig`` keyword
            arguments.
        mask_decoder_config (dict): ``Sam2MaskDecoderConfig`` keyword
            arguments (without the ``dynamic_multimask_*`` ones).
        dynamic_multimask (bool): The eval-time fallback above. Defaults
            to True.
        stability_delta (float): Defaults to 0.05.
        stability_thresh (float): Defaults to 0.98.
        pretrained (str, optional): SAM 2 weights for the prompt encoder
            and mask decoder (see
            :func:`~mmrrsis.models.backbones.load_sam2_pretrained`).
            Defaults to None.
        loss_decode (dict | list[dict]): Mask losses, mmseg's interface.
        query_loss (dict, optional): E.g. ``QuerySeparationLoss`` (weight
            0.5 in RSRefSeg2's recipe). Defaults to None (none).
        contrastive_loss (dict, optional): E.g.
            ``MaskTextContrastiveLoss`` (weight 0.5 in the recipe).
            Defaults to None (none).
        threshold (float): Probability above which a pixel is target.
            Defaults to 0.5.
        ignore_index (int): Label of ignored pixels. Defaults to 255.
        align_corners (bool): Of the bilinear resizes of the logits.
            Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 vision_config: dict,
                 prompt_encoder_config: dict,
                 mask_decoder_config: dict,
                 dynamic_multimask: bool = True,
                 stability_delta: float = 0.05,
                 stability_thresh: float = 0.98,
                 pretrained: Optional[str] = None,
                 loss_decode: Union[ConfigType, Sequence[ConfigType]] = (
                     dict(
                         type='mmseg.CrossEntropyLoss',
                         use_sigmoid=True,
                         loss_weight=5.0),
                     dict(type='mmrrsis.SigmoidDiceLoss', loss_weight=5.0)),
                 query_loss: Optional[ConfigType] = None,
                 contrastive_loss: Optional[ConfigType] = None,
                 threshold: float = 0.5,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        from transformers.models.sam2.modeling_sam2 import (
            Sam2MaskDecoder,
            Sam2PromptEncoder,
        )
        config = sam2_config(
            vision_config, prompt_encoder_config,
            dict(
                mask_decoder_config,
                dynamic_multimask_via_stability=dynamic_multimask,
                dynamic_multimask_stability_delta=stability_delta,
                dynamic_multimask_stability_thresh=stability_thresh))
        hidden = config.vision_config.fpn_hidden_size
        if config.mask_decoder_config.hidden_size != hidden or \
                config.prompt_encoder_config.hidden_size != hidden:
            raise ValueError(
                f'SAM2MaskHead: the prompt encoder and mask decoder width '
                f'must be the image encoder\'s FPN width {hidden}')
        # Sam2Model tells its decoder the attention kernel; we do it here
        config.mask_decoder_config._attn_implementation = 'sdpa'
        self.prompt_encoder = Sam2PromptEncoder(config.prompt_encoder_config)
        self.mask_decoder = Sam2MaskDecoder(config.mask_decoder_config)
        self.dynamic_multimask = dynamic_multimask
        # RSRefSeg2's head keeps these for a per-pixel text loss that its
        # recipe does not use (see the class docstring)
        # (1,), not 0-d: FSDP shards no 0-d parameter
        self.pixel_logit_scale = nn.Parameter(
            torch.full((1, ), math.log(1 / 0.07)))
        self.pixel_logit_bias = nn.Parameter(torch.full((1, ), math.log(0.5)))
        self.pretrained = pretrained
        if isinstance(loss_decode, dict):
            loss_decode = [loss_decode]
        self.loss_decode = nn.ModuleList(
            [MODELS.build(cfg) for cfg in loss_decode])
        self.query_loss = None if query_loss is None else MODELS.build(
            query_loss)
        self.contrastive_loss = None if contrastive_loss is None else \
            MODELS.build(contrastive_loss)
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.num_classes = 2
        self.out_channels = 1

    def init_weights(self) -> None:
        """Load ``pretrained`` (SAM 2's prompt encoder and mask decoder),
        else transformers' initialisation as built; ``init_cfg`` if set."""
        if self.init_cfg:
            super().init_weights()
        if self.pretrained is not None:
            state = load_sam2_pretrained(self.pretrained,
                                         'model.decode_head.pretrained')
            for name in ('prompt_encoder', 'mask_decoder'):
                prefix = name + '.'
                getattr(self, name).load_state_dict({
                    k[len(prefix):]: v
                    for k, v in state.items() if k.startswith(prefix)
                })
        self._is_init = True

    # ------------------------------------------------------------ forward
    def prepare(self, feats: List[Tensor]) -> SAM2ImageFeatures:
        """The image side of the decoder, computed once per image.

        Args:
            feats (list[Tensor]): The image encoder's three maps, stride 4,
                8 and 16 (B, C, ...).

        Returns:
            SAM2ImageFeatures: Embedding and projected high-res maps.
        """
        s4, s8, s16 = feats
        return SAM2ImageFeatures(
            s16, (self.mask_decoder.conv_s0(s4),
                  self.mask_decoder.conv_s1(s8)))

    def position_grid(self, h: int, w: int) -> Tensor:
        """SAM's positional encoding of an h x w embedding, (1, C, h, w).

        Computed in float32 whatever the model's dtype, as SAM 2's own
        code does, then cast to the table's dtype.
        """
        table = self.prompt_encoder.shared_embedding.positional_embedding
        grid = torch.ones((h, w), device=table.device, dtype=torch.float32)
        y = (grid.cumsum(dim=0) - 0.5) / h
        x = (grid.cumsum(dim=1) - 0.5) / w
        coords = 2 * torch.stack([x, y], dim=-1) - 1
        coords = 2 * math.pi * (coords @ table.to(torch.float32))
        pe = torch.cat([coords.sin(), coords.cos()], dim=-1).to(table.dtype)
        return pe.permute(2, 0, 1).unsqueeze(0)

    def mask_size(self, image: SAM2ImageFeatures) -> int:
        """Side of the dense prompt SAM takes: 4 x the embedding's."""
        return 4 * image.embed.shape[-1]

    def forward(self, image: SAM2ImageFeatures,
                prompts: PrompterOutput) -> Tensor:
        """Mask logits for B prompts.

        Args:
            image (SAM2ImageFeatures): Of B images, or of one image shared
                by the B prompts (broadcast, not copied).
            prompts (PrompterOutput): ``sparse`` (B, P, C), ``dense``
                (B, 1, 4h, 4w).

        Returns:
            Tensor: (B, 1, 4h, 4w) logits.
        """
        batch = prompts.sparse.shape[0]
        embed = image.embed
        high_res = list(image.high_res)
        if embed.shape[0] != batch:
            embed = embed.expand(batch, -1, -1, -1)
            high_res = [x.expand(batch, -1, -1, -1) for x in high_res]
        _, dense = self.prompt_encoder(None, None, None, prompts.dense)
        h, w = embed.shape[-2:]
        pe = self.position_grid(h, w).to(embed.dtype).expand(batch, -1, -1,
                                                            -1)
        masks = self.mask_decoder(
            image_embeddings=embed,
            image_positional_embeddings=pe,
            sparse_prompt_embeddings=prompts.sparse.unsqueeze(1),
            dense_prompt_embeddings=dense,
            multimask_output=False,
            high_resolution_features=high_res)[0]
        return masks[:, 0]

    # -------------------------------------------------------------- loss
    def loss(self, logits: Tensor, prompts: PrompterOutput,
             data_samples: SampleList) -> dict:
        """The losses of a batch.

        Args:
            logits (Tensor): (B, 1, h', w') from :meth:`forward`.
            prompts (PrompterOutput): The prompter's output (queries and
                the SigLIP image map feed the extra losses).
            data_samples (list[SegDataSample]): With ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: One entry per loss.
        """
        label = torch.stack([s.gt_sem_seg.data for s in data_samples])
        logits = resize(
            logits,
            size=label.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        label = label.squeeze(1)
        losses = {}
        for loss in self.loss_decode:
            losses[loss.loss_name] = loss(
                logits, label, weight=None, ignore_index=self.ignore_index)
        if self.query_loss is not None:
            losses[self.query_loss.loss_name] = self.query_loss(
                prompts.queries1, prompts.queries2)
        if self.contrastive_loss is not None:
            losses[self.contrastive_loss.loss_name] = self.contrastive_loss(
                prompts.image_map, label, prompts.queries2,
                self.ignore_index)
        return losses

    def predict_by_feat(self, logits: Tensor, size) -> Tensor:
        """Logits resized (bilinear) to the network input's size.

        Args:
            logits (Tensor): (B, 1, h', w').
            size (tuple[int, int]): The input's (H, W), padding included.

        Returns:
            Tensor: (B, 1, H, W).
        """
        return resize(
            logits,
            size=tuple(size),
            mode='bilinear',
            align_corners=self.align_corners)


__all__ = ['SAM2ImageFeatures', 'SAM2MaskHead']
