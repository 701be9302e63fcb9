"""Encoder-decoder segmentor for referring segmentation."""
from typing import List, Optional, Sequence

import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.segmentors.base import BaseSegmentor
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
)


@MODELS.register_module()
class RRSISEncoderDecoder(EncoderDecoder):
    """mmseg ``EncoderDecoder`` whose every step also carries the text.

    Each data sample holds its referring expression in
    ``metainfo['text']`` (a str). Call flow::

        loss(inputs, data_samples)
          texts = [s.metainfo['text'] ...]
          text  = text_encoder(texts)        # TextFeatures: words (B, L, C_t),
                                             # mask (B, L), sentence, graph
                  (text_encoder(texts, parse=[...]) for an encoder whose
                   meta_keys name metainfo it needs, e.g. LSCM's parse)
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
          postprocess_result -> pred_sem_seg, seg_logits

    A backbone, neck or head gets the text record exactly when it
    subclasses :class:`~mmrrsis.models.utils.TextConditioned` (the
    contract; ``docs/add_a_model.md``). ``neck`` may be one config or a
    list applied in order.

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
            ``crop_size`` and ``stride``). Defaults to None (whole).
        data_preprocessor (dict, optional): Defaults to None.
        pretrained (str, optional): Backbone checkpoint (mmseg style).
            Defaults to None.
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
            metas (Sequence[SegDataSample | dict], optional): The samples
                (or their metainfo), for an encoder that reads more than
                the string (its ``meta_keys``, e.g. LSCM's ``'parse'``).
                Defaults to None.

        Returns:
            TextFeatures: ``words`` (B, L, C_t), ``mask`` (B, L),
            ``sentence`` (B, C_t) or None, ``graph`` (B, L, L) or None.
        """
        keys = tuple(getattr(self.text_encoder, 'meta_keys', ()))
        extra = {}
        if keys:
            if metas is None:
                raise ValueError(
                    f'{type(self.text_encoder).__name__} needs the '
                    f'metainfo {list(keys)} of every sample besides its '
                    'text, but this caller passed the texts only; pass the '
                    'data samples: encode_text(texts, data_samples).')
            metas = [m if isinstance(m, dict) else m.metainfo for m in metas]
            extra = {key: [m.get(key) for m in metas] for key in keys}
        text = self.text_encoder(texts, **extra)
        if not isinstance(text, TextFeatures):
            raise TypeError(
                f'{type(self.text_encoder).__name__} returned '
                f'{type(text).__name__}; a text encoder must return '
                'mmrrsis.models.utils.TextFeatures (see BaseTextEncoder).')
        return text

    # ------------------------------------------------------------- features
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
        if takes_text(self.backbone):
            x = self.backbone(inputs, text)
        else:
            x = self.backbone(inputs)
        if self.with_neck:
            necks = self.neck if isinstance(self.neck,
                                            nn.ModuleList) else [self.neck]
            for neck in necks:
                x = neck(x, text) if takes_text(neck) else neck(x)
        return x

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
        if takes_text(self.decode_head):
            return self.decode_head.predict(x, text, batch_img_metas,
                                            self.test_cfg)
        return self.decode_head.predict(x, batch_img_metas, self.test_cfg)

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
        text = self.encode_text(self.get_texts(data_samples), data_samples)
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
            list[SegDataSample]: With ``pred_sem_seg`` and ``seg_logits``.
        """
        if data_samples is None:
            raise ValueError('RRSISEncoderDecoder.predict needs data samples '
                             "carrying metainfo['text'].")
        batch_img_metas = [s.metainfo for s in data_samples]
        seg_logits = self.inference(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples)

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
        text = self.encode_text(self.get_texts(data_samples), data_samples)
        x = self.extract_feat(inputs, text)
        if takes_text(self.decode_head):
            return self.decode_head.forward(x, text)
        return self.decode_head.forward(x)

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Sliding-window inference; the text is encoded once.

        Crops of ``test_cfg.crop_size`` every ``test_cfg.stride`` pixels
        (the last crop of a row or column is aligned to the border);
        overlapping logits are averaged.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo with 'text'.

        Returns:
            Tensor: (B, num_classes, H, W) logits.
        """
        text = self.encode_text(
            self.get_texts(batch_img_metas), batch_img_metas)
        h_stride, w_stride = self.test_cfg.stride
        h_crop, w_crop = self.test_cfg.crop_size
        batch_size, _, h_img, w_img = inputs.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        logits = inputs.new_zeros(
            (batch_size, self.out_channels, h_img, w_img))
        counts = inputs.new_zeros((batch_size, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                crop_metas = [
                    dict(meta, img_shape=crop.shape[2:])
                    for meta in batch_img_metas
                ]
                crop_logits = self.encode_decode(crop, crop_metas, text)
                logits += F.pad(crop_logits,
                                (x1, w_img - x2, y1, h_img - y2))
                counts[:, :, y1:y2, x1:x2] += 1
        assert (counts > 0).all()
        return logits / counts
