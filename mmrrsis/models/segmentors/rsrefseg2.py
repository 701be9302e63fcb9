"""RSRefSeg2: frozen foundation towers (SAM 2, SigLIP 2) with LoRA, a
prompter between them, late fusion."""
import copy
from typing import List, NamedTuple, Optional

from mmengine.logging import print_log
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.utils import add_prefix
from torch import Tensor

from mmrrsis.models.decode_heads.sam2_mask_head import SAM2ImageFeatures
from mmrrsis.models.utils import TextFeatures
from mmrrsis.models.utils.lora import count_parameters, merge_lora
from mmrrsis.registry import MODELS
from mmrrsis.utils import (
    ConfigType,
    OptConfigType,
    OptMultiConfig,
    OptSampleList,
    SampleList,
)

from .rrsis_encoder_decoder import RRSISEncoderDecoder

#: The config nodes whose towers may carry LoRA.
TOWERS = ('text_encoder', 'backbone', 'vision_encoder')


class RSRefSeg2ImageFeatures(NamedTuple):
    """What :meth:`RSRefSeg2.encode_image` computes once per image.

    Attributes:
        sam (SAM2ImageFeatures): SAM 2's embedding and high-res maps.
        siglip (Tensor): (B, N, C_i) SigLIP image tokens.
        size (tuple[int, int]): The input's (H, W).
    """

    sam: SAM2ImageFeatures
    siglip: Tensor
    size: tuple


@MODELS.register_module()
class RSRefSeg2(RRSISEncoderDecoder):
    """RSRefSeg2 (Chen et al., TGRS 2025; ``KyanChen/RSRefSeg2``):
    referring segmentation with SAM 2 prompted from SigLIP 2.

    Call flow::

        loss / predict (inputs: (B, 3, H, W) RGB in [0, 1])
          text  = text_encoder(texts)          # SigLIP text tower:
                                               # words, pooled, logit s, b
          image = encode_image(inputs)         # once per image, no text:
            sam    = decode_head.prepare(backbone(inputs))   # SAM 2
            siglip = vision_encoder(inputs)                  # SigLIP
          logits = decode_text(image, text)    # per expression:
            prompts = prompter(siglip, text, s, b)           # sparse, dense
            logits  = decode_head(sam, prompts)              # (B, 1, H/4..)
          losses = decode_head.loss(logits, prompts, samples)

    The image encoders never see the text (late fusion), so a window is
    encoded once for any number of expressions:
    :attr:`image_features_are_text_free` is True and the window predictor
    calls :meth:`encode_image` once and :meth:`decode_text` with all the
    expressions (contract C3). Prediction: ``sigmoid(logits) > threshold``
    (:meth:`predict_probs`, :meth:`probs_to_mask`).

    The three towers are frozen with LoRA adapters (``lora`` in their
    configs, peft); the prompter, SAM 2's prompt encoder and mask decoder,
    ``no_mem_embed``, SigLIP's logit scale and bias and the losses'
    parameters train in full. The parameter counts are logged when the
    model is built. :meth:`merge_lora` folds the adapters into the weights
    for inference; ``lora_merged=True`` builds the towers without adapters,
    to load such weights (e.g. from ``tools/model_converters/
    rsrefseg22mmrrsis.py --merge-lora``).

    Args:
        text_encoder (dict): :class:`SiglipTextEncoder`.
        backbone (dict): :class:`SAM2ImageEncoder`.
        vision_encoder (dict): :class:`SiglipVisionEncoder`.
        prompter (dict): :class:`CascadedPrompter`.
        decode_head (dict): :class:`SAM2MaskHead`.
        lora_merged (bool): Build the towers without their ``lora``.
            Defaults to False.
        train_cfg (dict, optional): Defaults to None.
        test_cfg (dict, optional): ``mode='whole'`` or ``'slide'``.
            Defaults to None (whole).
        data_preprocessor (dict, optional): Should give RGB in [0, 1]
            (mean 0, std 255, ``bgr_to_rgb``). Defaults to None.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 text_encoder: ConfigType,
                 backbone: ConfigType,
                 vision_encoder: ConfigType,
                 prompter: ConfigType,
                 decode_head: ConfigType,
                 lora_merged: bool = False,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        BaseSegmentor.__init__(
            self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        towers = dict(
            text_encoder=text_encoder,
            backbone=backbone,
            vision_encoder=vision_encoder)
        if lora_merged:
            towers = {
                k: dict(copy.deepcopy(dict(v)), lora=None)
                for k, v in towers.items()
            }
        self.lora_merged = lora_merged
        self.text_encoder = MODELS.build(towers['text_encoder'])
        self.backbone = MODELS.build(towers['backbone'])
        self.vision_encoder = MODELS.build(towers['vision_encoder'])
        self.prompter = MODELS.build(prompter)
        self._init_decode_head(decode_head)
        self.no_target_head = None  # the reference has no such branch
        self.train_cfg = train_cfg
        from mmengine.config import ConfigDict
        self.test_cfg = ConfigDict(
            test_cfg if test_cfg is not None else dict(mode='whole'))
        total, trainable = count_parameters(self)
        print_log(
            f'RSRefSeg2: {total:,d} parameters, {trainable:,d} trainable '
            f'({100 * trainable / max(total, 1):.2f}%)',
            logger='current')

    # --------------------------------------------------------- contracts
    @property
    def image_features_are_text_free(self) -> bool:
        """True: SAM 2 and SigLIP's vision tower never see the text."""
        return True

    def encode_image(self, inputs: Tensor) -> RSRefSeg2ImageFeatures:
        """Everything about the images that does not depend on the text.

        Args:
            inputs (Tensor): (B, 3, H, W) RGB images in [0, 1].

        Returns:
            RSRefSeg2ImageFeatures: Reusable for any expressions.
        """
        sam = self.decode_head.prepare(self.backbone(inputs))
        return RSRefSeg2ImageFeatures(sam, self.vision_encoder(inputs),
                                      tuple(inputs.shape[-2:]))

    def decode_text(self,
                    image_feats: RSRefSeg2ImageFeatures,
                    text: TextFeatures,
                    batch_img_metas: Optional[List[dict]] = None) -> Tensor:
        """Logits for B expressions from encoded images.

        Args:
            image_feats (RSRefSeg2ImageFeatures): From :meth:`encode_image`,
                of B images, or of 1 image shared by the B expressions:
                the image features are broadcast (views, not copies) to
                the B expressions here.
            text (TextFeatures): The B expressions, from
                :meth:`encode_text`.
            batch_img_metas (list[dict], optional): Unused (the output
                size is the input's). Defaults to None.

        Returns:
            Tensor: (B, 1, H, W) logits at the input size.
        """
        logits, _ = self._decode(image_feats, text)
        return self.decode_head.predict_by_feat(logits, image_feats.size)

    def _decode(self, image_feats: RSRefSeg2ImageFeatures,
                text: TextFeatures):
        """(low-resolution logits, prompter output)."""
        prompts = self.prompter(image_feats.siglip, text,
                                self.text_encoder.logit_scale,
                                self.text_encoder.logit_bias,
                                self.decode_head.mask_size(image_feats.sam))
        return self.decode_head(image_feats.sam, prompts), prompts

    def predict_probs(self, seg_logits: Tensor) -> Tensor:
        """Target probability: the sigmoid of the one logit channel.

        Args:
            seg_logits (Tensor): (B, 1, H, W) logits.

        Returns:
            Tensor: (B, 1, H, W) probabilities.
        """
        return seg_logits.sigmoid()

    def probs_to_mask(self,
                      probs: Tensor,
                      no_target: Optional[Tensor] = None) -> Tensor:
        """The mask: probability above the head's threshold (0.5).

        Args:
            probs (Tensor): (B, 1, H, W) from :meth:`predict_probs`.
            no_target (Tensor, optional): (B,) scores of a no-target
                branch; RSRefSeg2 has none, so given scores above 0.5 only
                empty the mask. Defaults to None.

        Returns:
            Tensor: (B, H, W) bool.
        """
        mask = probs[:, 0] > self.decode_head.threshold
        if no_target is not None:
            mask = mask & ~(no_target > 0.5).view(-1, 1, 1)
        return mask

    # ---------------------------------------------------------- segmentor
    def extract_feat(self, inputs: Tensor, text=None):
        """The text-free image features (see :meth:`encode_image`)."""
        return self.encode_image(inputs)

    def encode_decode(self,
                      inputs: Tensor,
                      batch_img_metas: List[dict],
                      text: Optional[TextFeatures] = None) -> Tensor:
        """Logits at the input size (B, 1, H, W); the text is encoded here
        when not given (slide inference passes it)."""
        if text is None:
            text = self.encode_text(self.get_texts(batch_img_metas))
        return self.decode_text(self.encode_image(inputs), text,
                                batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of a batch (see :class:`SAM2MaskHead`), prefixed
        ``decode.``."""
        text = self.encode_text(self.get_texts(data_samples))
        logits, prompts = self._decode(self.encode_image(inputs), text)
        return add_prefix(
            self.decode_head.loss(logits, prompts, data_samples), 'decode')

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Low-resolution logits (B, 1, H/4, W/4) for SAM's 1024 input:
        (B, 1, 256, 256)."""
        if data_samples is None:
            raise ValueError('RSRefSeg2 needs data samples carrying '
                             "metainfo['text'].")
        text = self.encode_text(self.get_texts(data_samples))
        return self._decode(self.encode_image(inputs), text)[0]

    # --------------------------------------------------------------- LoRA
    def merge_lora(self) -> int:
        """Fold every LoRA adapter into its tower's weights (same function,
        plain layers; the state dict loses ``base_layer`` / ``lora_*``).

        Returns:
            int: Layers merged.
        """
        merged = sum(
            merge_lora(getattr(self, name)) for name in TOWERS)
        self.lora_merged = True
        return merged

    def parameter_counts(self) -> dict:
        """(all, trainable) parameters of each part and of the whole.

        Returns:
            dict[str, tuple[int, int]]: Keys ``text_encoder``,
            ``backbone``, ``vision_encoder``, ``prompter``,
            ``decode_head`` and ``total``.
        """
        counts = {
            name: count_parameters(getattr(self, name))
            for name in TOWERS + ('prompter', 'decode_head')
        }
        counts['total'] = count_parameters(self)
        return counts


__all__ = ['RSRefSeg2', 'RSRefSeg2ImageFeatures']
