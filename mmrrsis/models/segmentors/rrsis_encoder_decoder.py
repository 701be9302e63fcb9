"""Encoder-decoder segmentor for referring segmentation."""
import logging
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.utils import add_prefix
from torch import Tensor, nn

from mmrrsis.models.utils import TextFeatures, takes_text
from mmrrsis.registry import MODELS
from mmrrsis.utils import (
    ConfigType,
    OptConfigType,
    OptMultiConfig,
    OptSampleList,
    SampleList,
    window_grid,
)

#: Logit margin of a window or sample the no-target branch calls empty.
NO_TARGET_MARGIN = 20.


@MODELS.register_module()
class RRSISEncoderDecoder(EncoderDecoder):
    """mmseg ``EncoderDecoder`` whose every step also carries the text.

    Each data sample holds its referring expression in
    ``metainfo['text']`` (a str). Call flow::

        loss(inputs, data_samples)
          texts = [s.metainfo['text'] ...]
          text  = text_encoder(texts)        # TextFeatures: words (B, L, C_t),
                                             # mask (B, L), sentence
          x     = backbone(inputs, text)     # language-aware (LAVT, RMSIN)
                  (or backbone(inputs) for a plain mmseg backbone)
          x     = neck(x, text) for each neck          # LGCE, late fusion
                  (or neck(x) for a plain neck, e.g. RMSIN's CIM)
          losses = decode_head.loss(x, ...)   (+ auxiliary heads)
                   (decode_head.loss(x, text, ...) for a text-aware head)

        predict(inputs, data_samples)
          inference -> whole: encode_decode(inputs, metas)
                    -> slide: text encoded once, then
                       encode_decode(crop, metas, text) per crop
                       (window_grid, the grid of every sliding window)
          postprocess_result -> per sample: crop, flip, resize logits,
                                predict_probs -> probs_to_mask
                             -> pred_sem_seg, seg_logits

    A backbone, neck or head gets the text record exactly when it
    subclasses :class:`~mmrrsis.models.utils.TextConditioned` (the
    contract; ``docs/add_a_model.md``). ``neck`` may be one config or a
    list applied in order.

    **One prediction rule.** :meth:`predict_probs` (logits -> target
    probability with the head's rule: 2-class softmax or 1-channel
    sigmoid) and :meth:`probs_to_mask` (the head's threshold, and the
    optional no-target branch) are what ``predict`` uses and what the
    window predictor of :mod:`mmrrsis.apis` uses for tiles, slides,
    scenes and the app, so they all give ``predict``'s masks.

    **Late fusion.** When the backbone does not take the text
    (:attr:`image_features_are_text_free`, e.g.
    ``configs/mix/fusion-late_r18_refsegrs-64x64.py``), a window's
    :meth:`encode_image` (the backbone and the text-free necks after it)
    is computed once and :meth:`decode_text` turns it into the logits of
    any number of expressions (the remaining necks and the head).

    **No target** (optional ``no_target_head``): a component called as
    ``no_target_head(feats, text) -> (B, )`` logits that the expression
    refers to nothing (``feats``: the maps the decode head gets); its
    sigmoid above ``test_cfg.no_target_threshold`` (default 0.5) empties
    the mask in :meth:`probs_to_mask`.

    Args:
        backbone (dict): Image encoder.
        decode_head (dict): Decode head.
        text_encoder (dict): A
            :class:`~mmrrsis.models.text_encoders.BaseTextEncoder`:
            ``forward(texts) -> TextFeatures``. Required.
        neck (dict | list[dict], optional): Neck(s). Defaults to None.
        auxiliary_head (dict | list[dict], optional): Defaults to None.
        train_cfg (dict, optional): Defaults to None.
        test_cfg (dict, optional): ``mode='whole'`` or ``'slide'`` (with
            ``crop_size`` and ``stride``); ``no_target_threshold``.
            Defaults to None (whole).
        data_preprocessor (dict, optional): Defaults to None.
        pretrained (str, optional): Backbone checkpoint (mmseg style).
            Defaults to None.
        no_target_head (dict, optional): The no-target branch (see
            above). Defaults to None.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 text_encoder: OptConfigType = None,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 no_target_head: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if text_encoder is None:
            raise ValueError(
                'RRSISEncoderDecoder needs `text_encoder` in its config, '
                "e.g. text_encoder=dict(type='BertTextEncoder', "
                "pretrained='bert-base-uncased').")
        BaseSegmentor.__init__(
            self, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(backbone)
            if backbone.get('pretrained') is not None:
                raise ValueError('Both segmentor and backbone set '
                                 '`pretrained`.')
            backbone['pretrained'] = pretrained
        self.text_encoder = MODELS.build(text_encoder)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            if isinstance(neck, (list, tuple)):
                self.neck = nn.ModuleList([MODELS.build(n) for n in neck])
            else:
                self.neck = MODELS.build(neck)
        self._init_decode_head(decode_head)
        self._init_auxiliary_head(auxiliary_head)
        self.no_target_head = (MODELS.build(no_target_head)
                               if no_target_head is not None else None)
        self.train_cfg = train_cfg
        self.test_cfg = ConfigDict(
            test_cfg if test_cfg is not None else dict(mode='whole'))
        assert self.with_decode_head

    def _init_decode_head(self, decode_head: ConfigType) -> None:
        self.decode_head = MODELS.build(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels

    def _init_auxiliary_head(self, auxiliary_head: OptConfigType) -> None:
        if auxiliary_head is None:
            return
        if isinstance(auxiliary_head, (list, tuple)):
            self.auxiliary_head = nn.ModuleList(
                [MODELS.build(cfg) for cfg in auxiliary_head])
        else:
            self.auxiliary_head = MODELS.build(auxiliary_head)

    # ----------------------------------------------------------------- text
    @staticmethod
    def get_texts(metas: Sequence) -> List[str]:
        """Collect the expressions of a batch.

        Args:
            metas (Sequence[SegDataSample | dict]): Data samples or their
                metainfo dicts.

        Returns:
            list[str]: One expression per sample.
        """
        texts = []
        for i, meta in enumerate(metas):
            if not isinstance(meta, dict):
                meta = meta.metainfo
            text = meta.get('text')
            if not isinstance(text, str):
                raise ValueError(
                    f'Data sample {i} has no referring expression: '
                    "metainfo['text'] must be a str (got "
                    f'{type(text).__name__}). Keep "text" in the meta_keys '
                    'of the packing transform.')
            texts.append(text)
        return texts

    def encode_text(self,
                    texts: List[str],
                    metas: Optional[Sequence] = None) -> TextFeatures:
        """Run the text encoder.

        Args:
            texts (list[str]): B expressions.
            metas (Sequence[SegDataSample | dict], optional): The B
                samples (or their metainfo), for an encoder that reads
                more than the string (its ``meta_keys``). Defaults to None.

        Returns:
            TextFeatures: ``words`` (B, L, C_t), ``mask`` (B, L) and
            ``sentence`` (B, C_t) or None.
        """
        meta = {}
        keys = getattr(self.text_encoder, 'meta_keys', ())
        if keys:
            infos = [m if isinstance(m, dict) else m.metainfo
                     for m in metas or ()]
            meta = {k: [info.get(k) for info in infos] or None for k in keys}
        text = self.text_encoder(texts, **meta)
        if not isinstance(text, TextFeatures):
            raise TypeError(
                f'{type(self.text_encoder).__name__} returned '
                f'{type(text).__name__}; a text encoder must return '
                'mmrrsis.models.utils.TextFeatures (see BaseTextEncoder).')
        return text

    # ------------------------------------------------------------- features
    def _necks(self) -> List[nn.Module]:
        if not self.with_neck:
            return []
        return list(self.neck) if isinstance(self.neck,
                                             nn.ModuleList) else [self.neck]

    def _image_neck_count(self) -> int:
        """How many necks after a text-free backbone ignore the text."""
        count = 0
        for neck in self._necks():
            if takes_text(neck):
                break
            count += 1
        return count

    @property
    def image_features_are_text_free(self) -> bool:
        """Whether the image side never sees the text (late fusion: the
        backbone does not take it), so :meth:`encode_image` can be computed
        once per image for all its expressions."""
        return not takes_text(self.backbone)

    def encode_image(self, inputs: Tensor) -> List[Tensor]:
        """The text-free image features of a late-fusion model.

        Args:
            inputs (Tensor): (B, 3, H, W) images.

        Returns:
            list[Tensor]: The backbone's maps after the necks that ignore
            the text (those up to the first text-aware neck).

        Raises:
            ValueError: The backbone takes the text (early fusion).
        """
        if not self.image_features_are_text_free:
            raise ValueError(
                f'{type(self.backbone).__name__} fuses the text inside the '
                'backbone, so the image features depend on the expression: '
                'use encode_decode per expression.')
        x = self.backbone(inputs)
        for neck in self._necks()[:self._image_neck_count()]:
            x = neck(x)
        return x

    def _text_side(self, x: List[Tensor], text: TextFeatures,
                   necks: Sequence[nn.Module]) -> List[Tensor]:
        for neck in necks:
            x = neck(x, text) if takes_text(neck) else neck(x)
        return x

    def extract_feat(self,
                     inputs: Tensor,
                     text: Optional[TextFeatures] = None) -> List[Tensor]:
        """Image features fused with the text.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            text (TextFeatures): From :meth:`encode_text`.

        Returns:
            list[Tensor]: Multi-scale maps for the decode head.
        """
        if text is None:
            raise ValueError('RRSISEncoderDecoder.extract_feat needs the '
                             'text features: call encode_text first.')
        if self.image_features_are_text_free:
            return self._text_side(
                self.encode_image(inputs), text,
                self._necks()[self._image_neck_count():])
        return self._text_side(self.backbone(inputs, text), text,
                               self._necks())

    def decode(self,
               x: List[Tensor],
               text: TextFeatures,
               batch_img_metas: List[dict],
               with_no_target: bool = False
               ) -> Tuple[Tensor, Optional[Tensor]]:
        """The decode head's logits (and the no-target probabilities).

        Args:
            x (list[Tensor]): The maps for the decode head.
            text (TextFeatures): The batch's text record.
            batch_img_metas (list[dict]): Metainfo (``img_shape``).
            with_no_target (bool): Also run the no-target branch (if the
                model has one). Defaults to False.

        Returns:
            tuple[Tensor, Tensor | None]: (B, K, H, W) logits at the input
            size; (B, ) probabilities that the expression refers to
            nothing, or None.
        """
        if takes_text(self.decode_head):
            logits = self.decode_head.predict(x, text, batch_img_metas,
                                              self.test_cfg)
        else:
            logits = self.decode_head.predict(x, batch_img_metas,
                                              self.test_cfg)
        if not with_no_target or self.no_target_head is None:
            return logits, None
        return logits, self.no_target_head(x, text).sigmoid()

    def _features(self, inputs: Optional[Tensor], text: TextFeatures,
                  image_feats: Optional[List[Tensor]]) -> List[Tensor]:
        """The decode head's maps, from images or from (batch 1 or B)
        :meth:`encode_image` features broadcast to the B expressions."""
        if image_feats is None:
            return self.extract_feat(inputs, text)
        batch = text.words.shape[0]
        feats = [
            f.expand(batch, *f.shape[1:])
            if f.shape[0] == 1 and batch > 1 else f for f in image_feats
        ]
        return self._text_side(feats, text,
                               self._necks()[self._image_neck_count():])

    def decode_text(self, image_feats: List[Tensor], text: TextFeatures,
                    batch_img_metas: List[dict]) -> Tensor:
        """Logits of expressions from :meth:`encode_image`'s features.

        Args:
            image_feats (list[Tensor]): From :meth:`encode_image`, batch B
                or 1; batch 1 is broadcast (``expand``, no copy) to the B
                expressions of ``text``.
            text (TextFeatures): B expressions.
            batch_img_metas (list[dict]): B metainfo dicts.

        Returns:
            Tensor: (B, K, H, W) logits at the input size.
        """
        x = self._features(None, text, image_feats)
        return self.decode(x, text, batch_img_metas)[0]

    def encode_decode(self,
                      inputs: Tensor,
                      batch_img_metas: List[dict],
                      text: Optional[TextFeatures] = None) -> Tensor:
        """Logits at the input size.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo, with 'text' when
                ``text`` is None.
            text (TextFeatures, optional): Encoded text, to reuse across
                crops. Defaults to None (encoded here).

        Returns:
            Tensor: (B, num_classes, H, W) logits.
        """
        if text is None:
            text = self.encode_text(
                self.get_texts(batch_img_metas), batch_img_metas)
        x = self.extract_feat(inputs, text)
        return self.decode(x, text, batch_img_metas)[0]

    def window_outputs(self,
                       inputs: Optional[Tensor],
                       batch_img_metas: List[dict],
                       text: Optional[TextFeatures] = None,
                       image_feats: Optional[List[Tensor]] = None,
                       with_no_target: bool = True
                       ) -> Tuple[Tensor, Optional[Tensor]]:
        """Logits and no-target probabilities of a batch of windows.

        Without a no-target branch this is :meth:`encode_decode` (or
        :meth:`decode_text` with ``image_feats``), so a subclass that
        overrides those is driven through them.

        Args:
            inputs (Tensor, optional): (B, 3, H, W) images; unused when
                ``image_feats`` is given.
            batch_img_metas (list[dict]): Metainfo, with 'text' when
                ``text`` is None.
            text (TextFeatures, optional): Encoded text, to reuse across
                windows. Defaults to None (encoded here).
            image_feats (list[Tensor], optional): :meth:`encode_image` of
                the window (batch 1 or B; late fusion only). Defaults to
                None.
            with_no_target (bool): Run the no-target branch if there is
                one. Defaults to True.

        Returns:
            tuple[Tensor, Tensor | None]: (B, K, H, W) logits, and (B, )
            no-target probabilities or None.
        """
        if text is None:
            text = self.encode_text(
                self.get_texts(batch_img_metas), batch_img_metas)
        if not with_no_target or self.no_target_head is None:
            if image_feats is not None:
                return self.decode_text(image_feats, text,
                                        batch_img_metas), None
            return self.encode_decode(inputs, batch_img_metas, text), None
        x = self._features(inputs, text, image_feats)
        return self.decode(x, text, batch_img_metas, with_no_target=True)

    # ------------------------------------------------------------ training
    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of a batch.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` and
                ``metainfo['text']``.

        Returns:
            dict[str, Tensor]: Loss components.
        """
        text = self.encode_text(
            self.get_texts(data_samples), data_samples)
        x = self.extract_feat(inputs, text)
        losses = dict()
        losses.update(
            add_prefix(
                self._head_loss(self.decode_head, x, text, data_samples),
                'decode'))
        if self.with_auxiliary_head:
            heads = self.auxiliary_head
            if isinstance(heads, nn.ModuleList):
                for idx, head in enumerate(heads):
                    losses.update(
                        add_prefix(
                            self._head_loss(head, x, text, data_samples),
                            f'aux_{idx}'))
            else:
                losses.update(
                    add_prefix(
                        self._head_loss(heads, x, text, data_samples),
                        'aux'))
        return losses

    def _head_loss(self, head: nn.Module, x: List[Tensor],
                   text: TextFeatures, data_samples: SampleList) -> dict:
        """``head.loss``, with the text for a text-aware head."""
        if takes_text(head):
            return head.loss(x, text, data_samples, self.train_cfg)
        return head.loss(x, data_samples, self.train_cfg)

    # ----------------------------------------------------------- inference
    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Predict masks.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): With ``metainfo['text']``
                (and the usual shapes). Required.

        Returns:
            list[SegDataSample]: With ``pred_sem_seg`` and ``seg_logits``
            (see :meth:`postprocess_result`).
        """
        if data_samples is None:
            raise ValueError('RRSISEncoderDecoder.predict needs data samples '
                             "carrying metainfo['text'].")
        batch_img_metas = [s.metainfo for s in data_samples]
        seg_logits, no_target = self.inference_outputs(inputs,
                                                       batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples, no_target)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Raw decode head output (no post-processing).

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): With ``metainfo['text']``.

        Returns:
            Tensor: Decode head logits, e.g. (B, 2, H/4, W/4).
        """
        if data_samples is None:
            raise ValueError('RRSISEncoderDecoder needs data samples '
                             "carrying metainfo['text'].")
        text = self.encode_text(
            self.get_texts(data_samples), data_samples)
        x = self.extract_feat(inputs, text)
        if takes_text(self.decode_head):
            return self.decode_head.forward(x, text)
        return self.decode_head.forward(x)

    def inference(self, inputs: Tensor,
                  batch_img_metas: List[dict]) -> Tensor:
        """Logits of a batch, whole or sliding windows (mmseg's contract).

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo with 'text'.

        Returns:
            Tensor: (B, K, H, W) logits.
        """
        return self.inference_outputs(inputs, batch_img_metas, False)[0]

    def inference_outputs(self,
                          inputs: Tensor,
                          batch_img_metas: List[dict],
                          with_no_target: bool = True
                          ) -> Tuple[Tensor, Optional[Tensor]]:
        """:meth:`inference` plus the no-target probabilities.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo with 'text'.
            with_no_target (bool): Run the no-target branch, if any.
                Defaults to True.

        Returns:
            tuple[Tensor, Tensor | None]: (B, K, H, W) logits and (B, )
            no-target probabilities (with sliding windows: the smallest
            over the windows, as an image has no target only when no
            window sees one) or None.
        """
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('slide', 'whole'):
            raise ValueError(f'test_cfg.mode must be "slide" or "whole", got '
                             f'{mode!r}')
        ori_shape = batch_img_metas[0].get('ori_shape')
        if not all(m.get('ori_shape') == ori_shape for m in batch_img_metas):
            print_log('Image shapes are different in the batch.',
                      logger='current', level=logging.DEBUG)
        if mode == 'whole':
            return self.window_outputs(inputs, batch_img_metas,
                                       with_no_target=with_no_target)
        return self._slide_outputs(inputs, batch_img_metas, with_no_target)

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Sliding-window inference; the text is encoded once.

        Crops of ``test_cfg.crop_size`` every ``test_cfg.stride`` pixels
        (:func:`~mmrrsis.utils.window_grid`: the last crop of a row or
        column is aligned to the border); overlapping logits are averaged.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo with 'text'.

        Returns:
            Tensor: (B, num_classes, H, W) logits.
        """
        return self._slide_outputs(inputs, batch_img_metas, False)[0]

    def _slide_outputs(self, inputs: Tensor, batch_img_metas: List[dict],
                       with_no_target: bool
                       ) -> Tuple[Tensor, Optional[Tensor]]:
        text = self.encode_text(
            self.get_texts(batch_img_metas), batch_img_metas)
        batch_size, _, h_img, w_img = inputs.shape
        logits = inputs.new_zeros(
            (batch_size, self.out_channels, h_img, w_img))
        counts = inputs.new_zeros((batch_size, 1, h_img, w_img))
        no_target = None
        for y1, y2, x1, x2 in window_grid(h_img, w_img,
                                          tuple(self.test_cfg.crop_size),
                                          tuple(self.test_cfg.stride)):
            crop = inputs[:, :, y1:y2, x1:x2]
            crop_metas = [
                dict(meta, img_shape=crop.shape[2:])
                for meta in batch_img_metas
            ]
            crop_logits, crop_nt = self.window_outputs(
                crop, crop_metas, text, with_no_target=with_no_target)
            logits += F.pad(crop_logits, (x1, w_img - x2, y1, h_img - y2))
            counts[:, :, y1:y2, x1:x2] += 1
            if crop_nt is not None:
                no_target = crop_nt if no_target is None else \
                    no_target.minimum(crop_nt)
        assert (counts > 0).all()
        return logits / counts, no_target

    # ------------------------------------------------------ the one rule
    @property
    def mask_threshold(self) -> float:
        """The target probability above which a pixel is target: the
        head's ``threshold`` for a 1-channel (sigmoid) head, 0.5 (the
        argmax of two classes) for a 2-class head."""
        if self.out_channels == 1:
            return float(self.decode_head.threshold)
        return 0.5

    def predict_probs(self, seg_logits: Tensor) -> Tensor:
        """Target probability with the decode head's own rule.

        Args:
            seg_logits (Tensor): (B, K, H, W) logits, K = 2 (softmax, the
                target is class 1) or 1 (sigmoid).

        Returns:
            Tensor: (B, 1, H, W) float32 probability of the target.
        """
        channels = seg_logits.shape[1]
        seg_logits = seg_logits.float()  # e.g. bf16 logits of autocast
        if channels == 1:
            return seg_logits.sigmoid()
        if channels == 2:
            return seg_logits.softmax(dim=1)[:, 1:]
        raise ValueError(f'A referring segmentor predicts 1 (sigmoid) or 2 '
                         f'(background, target) channels, got {channels}')

    def probs_to_mask(self,
                      probs: Tensor,
                      no_target: Optional[Tensor] = None) -> Tensor:
        """Masks from target probabilities with the head's threshold.

        Args:
            probs (Tensor): (B, 1, H, W) from :meth:`predict_probs`.
            no_target (Tensor, optional): (B, ) probabilities that each
                expression refers to nothing (the no-target branch); a
                sample above ``test_cfg.no_target_threshold`` (0.5) gets
                an empty mask. Defaults to None.

        Returns:
            Tensor: (B, H, W) bool masks.
        """
        mask = probs[:, 0] > self.mask_threshold
        if no_target is not None:
            empty = no_target.reshape(-1) > self.test_cfg.get(
                'no_target_threshold', 0.5)
            mask = mask & ~empty.to(mask.device)[:, None, None]
        return mask

    def no_target_logits(self, logits: Tensor,
                         no_target: Optional[Tensor]) -> Tensor:
        """Logits where samples the no-target branch calls empty vote
        background with margin :data:`NO_TARGET_MARGIN` (for blending
        overlapping windows, whose masks come later).

        Args:
            logits (Tensor): (B, K, H, W).
            no_target (Tensor, optional): (B, ) probabilities.

        Returns:
            Tensor: ``logits`` itself when nothing is empty, else a copy.
        """
        if no_target is None:
            return logits
        empty = no_target.reshape(-1) > self.test_cfg.get(
            'no_target_threshold', 0.5)
        if not empty.any():
            return logits
        logits = logits.clone()
        vote = logits.new_tensor([-NO_TARGET_MARGIN] if logits.shape[1] == 1
                                 else [NO_TARGET_MARGIN, -NO_TARGET_MARGIN])
        logits[empty] = vote[None, :, None, None]
        return logits

    def postprocess_result(self,
                           seg_logits: Tensor,
                           data_samples: OptSampleList = None,
                           no_target: Optional[Tensor] = None
                           ) -> SampleList:
        """Logits -> each sample's mask at its original size.

        Per sample: padding removed, flips undone, logits resized
        (bilinear) to ``ori_shape``, then :meth:`predict_probs` and
        :meth:`probs_to_mask`, in float32 also under mixed precision
        (autocast is switched off here).

        Args:
            seg_logits (Tensor): (B, K, H, W) logits.
            data_samples (list[SegDataSample], optional): Their metainfo
                says how to undo the pipeline; None keeps the logits' size.
            no_target (Tensor, optional): (B, ) no-target probabilities.

        Returns:
            list[SegDataSample]: ``pred_sem_seg`` (1, H, W) 0/1 and
            ``seg_logits``: (K, H, W) logits for a 2-class head, (1, H, W)
            probabilities for a sigmoid head (as mmseg).
        """
        with torch.autocast(seg_logits.device.type, enabled=False):
            return self._postprocess(seg_logits.float(), data_samples,
                                     no_target)

    def _postprocess(self, seg_logits: Tensor, data_samples: OptSampleList,
                     no_target: Optional[Tensor]) -> SampleList:
        from mmseg.structures import SegDataSample
        batch_size, _, height, width = seg_logits.shape
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(batch_size)]
        for i, sample in enumerate(data_samples):
            logits = seg_logits[i:i + 1]
            meta = sample.metainfo
            if 'ori_shape' in meta:
                left, right, top, bottom = meta.get(
                    'img_padding_size', meta.get('padding_size', [0] * 4))
                logits = logits[:, :, top:height - bottom,
                                left:width - right]
                if meta.get('flip'):
                    dim = 3 if meta.get('flip_direction') == 'horizontal' \
                        else 2
                    logits = logits.flip(dims=(dim, ))
                logits = resize(logits, size=meta['ori_shape'],
                                mode='bilinear',
                                align_corners=self.align_corners,
                                warning=False)
            probs = self.predict_probs(logits)
            mask = self.probs_to_mask(
                probs, None if no_target is None else no_target[i:i + 1])
            if logits.shape[1] == 1:  # as mmseg: probabilities, float mask
                kept, mask = probs, mask.to(logits.dtype)
            else:
                kept, mask = logits, mask.long()
            sample.set_data(dict(
                seg_logits=PixelData(data=kept[0]),
                pred_sem_seg=PixelData(data=mask)))
        return data_samples
