"""The interface of a decode head that reads the text record."""
from abc import ABCMeta, abstractmethod
from typing import List

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from torch import Tensor

from mmrrsis.models.utils import TextConditioned, TextFeatures
from mmrrsis.utils import ConfigType, SampleList


class BaseTextDecodeHead(BaseDecodeHead, TextConditioned, metaclass=ABCMeta):
    """mmseg's ``BaseDecodeHead`` whose forward also takes the text record.

    Most referring decoders need no text (LAVT's and RMSIN's see only the
    fused maps; they are plain mmseg heads such as
    :class:`ReferringDecodeHead`). A decoder that does read the
    expression (e.g. one with text queries) subclasses this class; the
    segmentor then calls::

        head.forward(feats, text)                         -> logits
        head.loss(feats, text, data_samples, train_cfg)   -> losses
        head.predict(feats, text, img_metas, test_cfg)    -> logits

    with ``text`` the batch's
    :class:`~mmrrsis.models.utils.TextFeatures`; losses, resizing and
    ``predict_by_feat`` are mmseg's.
    """

    @abstractmethod
    def forward(self, inputs: List[Tensor], text: TextFeatures) -> Tensor:
        """Logits from multi-scale maps and the text.

        Args:
            inputs (list[Tensor]): Maps (B, C_i, H_i, W_i).
            text (TextFeatures): The batch's text record.

        Returns:
            Tensor: (B, num_classes, H, W) logits.
        """

    def loss(self, inputs: List[Tensor], text: TextFeatures,
             batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Losses of the head, as ``BaseDecodeHead.loss`` with the text."""
        return self.loss_by_feat(self.forward(inputs, text),
                                 batch_data_samples)

    def predict(self, inputs: List[Tensor], text: TextFeatures,
                batch_img_metas: List[dict], test_cfg: ConfigType) -> Tensor:
        """Logits at the input size, as ``BaseDecodeHead.predict``."""
        return self.predict_by_feat(self.forward(inputs, text),
                                    batch_img_metas)


__all__ = ['BaseTextDecodeHead']
