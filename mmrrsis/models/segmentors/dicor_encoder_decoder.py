"""DiCoR (Gao et al.): a coarse LAVT-family model, a localization guide and
a refiner, trained in stages."""
import logging
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import is_distributed
from mmengine.logging import print_log
from torch import Tensor, nn

from mmrrsis.models.refiners import prob_to_logits
from mmrrsis.models.utils import TextFeatures, takes_text
from mmrrsis.registry import MODELS
from mmrrsis.utils import (
    ConfigType,
    OptConfigType,
    OptMultiConfig,
    OptSampleList,
    SampleList,
)

from .rrsis_encoder_decoder import RRSISEncoderDecoder

STAGES = ('coarse', 'refiner', 'guide', 'joint')


@MODELS.register_module()
class DiCoREncoderDecoder(RRSISEncoderDecoder):
    """DiCoR: coarse segmentation, localization guidance, contour
    refinement.

    Call flow (all stages)::

        text  = text_encoder(texts)
        F     = backbone(inputs, text)                   LAVT: PWAM + gates
        F[i], text', details = localization_guide(F[i], text)   (optional)
        F     = neck(F, text')                           VMSF or LVMSF
        C     = decode_head(F)                           coarse logits, /4
        C_up  = resize(C) to the input size
        D     = refiner([inputs, softmax(C_up)_fg])      (optional)
        logits = C_up + D                                (test_cfg.refine)

    ``stage`` says what :meth:`loss` trains (the reference trains each
    stage with its own script; here each is a config, see
    ``configs/dicor/``):

    - ``'coarse'`` / ``'joint'``: the decode head's losses on C (the
      joint stage runs the guide with ``guide_text`` and the LVMSF neck);
    - ``'guide'``: :class:`~mmrrsis.models.losses.LocalizationLoss` of
      the guide on the (frozen) backbone's map F[i], picking candidates
      on the prompt bank's coarse probability (``data_sample.prompt_prob``
      from :class:`~mmrrsis.datasets.PromptBankDataset`); SAM instance
      masks (DiCoR's data files may carry them, ``sam3``) are its weak
      negatives when a sample has them as ``data_sample.sam_masks``
      ((N, H, W) at the input size; none of our loaders fills them yet,
      so that term is 0 here);
    - ``'refiner'``: :class:`~mmrrsis.models.losses.RefinerLoss` of the
      refiner on the image and the prompt bank's probability (resized to
      the input), coarse logits ``log(1 - p), log p``; nothing else runs.

    In the ``'guide'`` and ``'refiner'`` stages a sample whose prompt is
    all zero (``metainfo['prompt_valid']`` False: the bank marks samples
    it filtered out) is left out of the loss; a batch with no valid
    sample is skipped without an optimizer step in single-process
    training, as the reference's ``continue`` (the learning-rate schedule
    still advances, the reference's does not; under DDP the batch's loss
    is 0 and the step runs, as all ranks must step together).

    ``frozen`` names sub-modules (dotted paths, e.g. ``'backbone'``,
    ``'localization_guide.ranker'``) whose parameters get
    ``requires_grad=False`` and which stay in eval mode while the model
    trains (BN statistics, dropout and drop-path off), as the reference's
    later stages keep their frozen parts in eval mode.

    Args:
        backbone, decode_head, text_encoder, neck, auxiliary_head,
        train_cfg, data_preprocessor, pretrained: As
            :class:`RRSISEncoderDecoder`.
        localization_guide (dict, optional): A
            :class:`~mmrrsis.models.guides.LocalizationGuide`. Defaults to
            None.
        refiner (dict, optional): A
            :class:`~mmrrsis.models.refiners.RefineUNet` (4 input
            channels: image + probability). Defaults to None.
        guide_loss (dict, optional): Loss of the ``'guide'`` stage.
            Defaults to ``LocalizationLoss``.
        refiner_loss (dict, optional): Loss of the ``'refiner'`` stage.
            Defaults to ``RefinerLoss``.
        stage (str): One of ``'coarse'``, ``'refiner'``, ``'guide'``,
            ``'joint'``. Defaults to ``'coarse'``.
        frozen (Sequence[str]): Sub-modules to freeze. Defaults to ().
        test_cfg (dict, optional): As :class:`RRSISEncoderDecoder`, plus
            ``refine`` (bool): add the refiner's correction. Defaults to
            ``dict(mode='whole', refine=True)``.
        init_cfg (dict | list[dict], optional): Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 text_encoder: OptConfigType = None,
                 neck: OptConfigType = None,
                 localization_guide: OptConfigType = None,
                 refiner: OptConfigType = None,
                 guide_loss: OptConfigType = None,
                 refiner_loss: OptConfigType = None,
                 stage: str = 'coarse',
                 frozen: Sequence[str] = (),
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if stage not in STAGES:
            raise ValueError(f'DiCoREncoderDecoder: stage must be one of '
                             f'{STAGES}, got "{stage}".')
        test_cfg = dict(test_cfg or dict(mode='whole'))
        test_cfg.setdefault('refine', True)
        super().__init__(
            backbone,
            decode_head,
            text_encoder=text_encoder,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        self.stage = stage
        self.localization_guide = None if localization_guide is None else \
            MODELS.build(localization_guide)
        self.refiner = None if refiner is None else MODELS.build(refiner)
        needs = dict(guide=self.localization_guide, refiner=self.refiner)
        if stage in needs and needs[stage] is None:
            key = 'localization_guide' if stage == 'guide' else 'refiner'
            raise ValueError(f'DiCoREncoderDecoder: stage "{stage}" trains '
                             f'the {key}; set model.{key}.')
        self.guide_loss = MODELS.build(
            guide_loss or dict(type='mmrrsis.LocalizationLoss'))
        self.refiner_loss = MODELS.build(
            refiner_loss or dict(type='mmrrsis.RefinerLoss'))
        self.frozen = list(frozen)
        for path in self.frozen:
            self._submodule(path).requires_grad_(False)

    def _submodule(self, path: str) -> nn.Module:
        try:
            return self.get_submodule(path)
        except AttributeError:
            names = [n for n, _ in self.named_children()]
            raise ValueError(
                f'DiCoREncoderDecoder: frozen entry "{path}" names no '
                f'sub-module; the model has {names} (use dotted paths, '
                'e.g. "localization_guide.ranker").') from None

    def train(self, mode: bool = True) -> 'DiCoREncoderDecoder':
        """Set the mode; frozen sub-modules stay in eval mode."""
        super().train(mode)
        for path in self.frozen:
            self._submodule(path).eval()
        return self

    # ------------------------------------------------------------- features
    def guided_features(
        self,
        inputs: Tensor,
        text: TextFeatures,
        candidate_prob: Optional[Tensor] = None
    ) -> Tuple[List[Tensor], Optional[Dict[str, Tensor]]]:
        """Backbone, localization guide, neck(s).

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            text (TextFeatures): The batch's text record.
            candidate_prob (Tensor, optional): (B, 1, h', w') map the
                guide picks candidates on instead of its evidence.
                Defaults to None.

        Returns:
            tuple: The maps for the decode head and the guide's details
            (None without a guide).
        """
        x = list(self.backbone(inputs, text)) if takes_text(
            self.backbone) else list(self.backbone(inputs))
        details = None
        if self.localization_guide is not None:
            i = self.localization_guide.feature_index
            x[i], text, details = self.localization_guide(
                x[i], text, candidate_prob)
        if self.with_neck:
            necks = self.neck if isinstance(self.neck,
                                            nn.ModuleList) else [self.neck]
            for neck in necks:
                x = neck(x, text) if takes_text(neck) else neck(x)
        return x, details

    def extract_feat(self,
                     inputs: Tensor,
                     text: Optional[TextFeatures] = None) -> List[Tensor]:
        """Maps for the decode head (see :meth:`guided_features`)."""
        if text is None:
            raise ValueError('DiCoREncoderDecoder.extract_feat needs the '
                             'text features: call encode_text first.')
        return self.guided_features(inputs, text)[0]

    def refine(self, inputs: Tensor, logits: Tensor) -> Tensor:
        """Add the refiner's correction to logits at the input size.

        Args:
            inputs (Tensor): (B, 3, H, W) normalised images.
            logits (Tensor): (B, 2, H, W) coarse logits.

        Returns:
            Tensor: (B, 2, H, W) refined logits.
        """
        prob = logits.softmax(1)[:, 1:2].detach()
        return logits + self.refiner(torch.cat([inputs, prob], dim=1))

    def encode_decode(self,
                      inputs: Tensor,
                      batch_img_metas: List[dict],
                      text: Optional[TextFeatures] = None) -> Tensor:
        """Logits at the input size, refined when ``test_cfg.refine`` and a
        refiner is set.

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            batch_img_metas (list[dict]): Metainfo ('text' when ``text``
                is None).
            text (TextFeatures, optional): Encoded text. Defaults to None.

        Returns:
            Tensor: (B, 2, H, W) logits.
        """
        logits = super().encode_decode(inputs, batch_img_metas, text)
        if self.refiner is not None and self.test_cfg.get('refine', True):
            logits = self.refine(inputs, logits)
        return logits

    def coarse_logits(self, inputs: Tensor,
                      data_samples: SampleList) -> Tensor:
        """The decode head's logits at its own stride (what DiCoR's prompt
        bank stores as probabilities).

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): With ``metainfo['text']``.

        Returns:
            Tensor: (B, 2, H / 4, W / 4) logits.
        """
        return super()._forward(inputs, data_samples)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """The final logits at the input size (so FLOP counts include the
        refiner); :meth:`coarse_logits` gives the decode head's."""
        if data_samples is None:
            raise ValueError('DiCoREncoderDecoder needs data samples '
                             "carrying metainfo['text'].")
        return self.encode_decode(inputs, [s.metainfo for s in data_samples])

    # ------------------------------------------------------------- training
    @staticmethod
    def prompts(data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """The prompt bank's maps of a batch.

        Returns:
            tuple[Tensor, Tensor]: (B, 1, h, w) probabilities and (B,) bool
            validity.
        """
        if not all(hasattr(s, 'prompt_prob') for s in data_samples):
            raise ValueError(
                'This DiCoR stage trains from the prompt bank, but the data '
                'samples carry no prompt_prob: wrap the training dataset in '
                "dict(type='PromptBankDataset', bank_dir=..., dataset=...) "
                '(tools/misc/build_prompt_bank.py writes the bank).')
        probs = torch.stack([s.prompt_prob.data for s in data_samples])
        valid = torch.tensor(
            [bool(s.metainfo.get('prompt_valid', True)) for s in data_samples],
            device=probs.device)
        return probs, valid & (probs.flatten(1).sum(1) > 0)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses of the configured stage (see the class docstring).

        Args:
            inputs (Tensor): (B, 3, H, W) images.
            data_samples (list[SegDataSample]): With ``gt_sem_seg``,
                ``metainfo['text']`` and, for the ``'guide'`` and
                ``'refiner'`` stages, ``prompt_prob``.

        Returns:
            dict[str, Tensor]: Loss components.
        """
        if self.stage in ('coarse', 'joint'):
            return super().loss(inputs, data_samples)
        probs, valid = self.prompts(data_samples)
        if not valid.any():
            params = [p for p in self.parameters() if p.requires_grad]
            zero = sum(p.sum() for p in params) * 0.
            return {f'loss_{self.stage}': zero}
        keep = valid.nonzero()[:, 0]
        inputs, probs = inputs[keep], probs[keep]
        data_samples = [data_samples[i] for i in keep.tolist()]
        targets = torch.stack(
            [s.gt_sem_seg.data[0] for s in data_samples])
        if self.stage == 'refiner':
            prob = F.interpolate(
                probs.to(inputs.dtype), inputs.shape[2:], mode='bilinear',
                align_corners=False).detach()
            delta = self.refiner(torch.cat([inputs, prob], dim=1))
            return self.refiner_loss(prob_to_logits(prob) + delta, delta,
                                     prob, targets)
        text = self.encode_text(self.get_texts(data_samples))
        with torch.no_grad():
            feats = self.backbone(inputs, text) if takes_text(
                self.backbone) else self.backbone(inputs)
        guide = self.localization_guide
        _, _, details = guide(feats[guide.feature_index].detach(), text,
                              candidate_prob=probs)
        sam = [getattr(s, 'sam_masks', None) for s in data_samples]
        sam = [None if m is None else getattr(m, 'data', m) for m in sam]
        return self.guide_loss(details, targets, sam)

    def train_step(self, data, optim_wrapper) -> Dict[str, Tensor]:
        """mmengine's train step; in the ``'guide'`` and ``'refiner'``
        stages a batch without a valid prompt is skipped (no update) when
        not distributed."""
        if (self.stage in ('guide', 'refiner') and not is_distributed()
                and not self._any_valid_prompt(data)):
            print_log(
                'DiCoR: a batch with no valid prompt (all-zero bank maps) '
                'was skipped without an update, as the reference does.',
                logger='current',
                level=logging.DEBUG)
            return {}
        return super().train_step(data, optim_wrapper)

    @staticmethod
    def _any_valid_prompt(data) -> bool:
        samples = data.get('data_samples') if isinstance(data, dict) else None
        if not samples:
            return True
        for sample in samples:
            prompt = getattr(sample, 'prompt_prob', None)
            if prompt is None:
                return True  # loss() explains what is missing
            if sample.metainfo.get('prompt_valid', True) and bool(
                    prompt.data.any()):
                return True
        return False


__all__ = ['DiCoREncoderDecoder', 'STAGES']
