"""Data preprocessor that also batches test images of different sizes."""
from typing import Any, Dict

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.utils import stack_batch

from mmrrsis.registry import MODELS


@MODELS.register_module()
class RRSISDataPreProcessor(SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` that accepts a test batch of images
    of different sizes.

    mmseg's preprocessor stops a test batch whose images differ in size
    with an ``AssertionError`` unless its own ``test_cfg`` pads. Tiles
    kept at their own size (slide inference with ``keep_size``, see
    ``mmrrsis.apis.set_slide_inference``) or a test set without a fixed
    resize give such batches. Here they are padded at the bottom and
    right to the largest height and width of the batch (``pad_val``), and
    each sample records its ``img_padding_size`` and ``pad_shape``, so
    ``postprocess_result`` crops every prediction back to its own image
    before resizing it to ``ori_shape``. Batches of equal sizes, and
    training batches, are processed exactly as by mmseg.

    Args:
        **kwargs: Arguments of ``SegDataPreProcessor``.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Normalise, convert BGR to RGB and batch; see the class doc.

        Args:
            data (dict): ``inputs`` (list of (3, H_b, W_b) tensors) and
                ``data_samples``.
            training (bool): Training mode. Defaults to False.

        Returns:
            dict: ``inputs`` (B, 3, H, W) and ``data_samples``.
        """
        inputs = data['inputs']
        if (training or self.test_cfg or isinstance(inputs, torch.Tensor)
                or len({tuple(x.shape[1:]) for x in inputs}) <= 1):
            return super().forward(data, training)
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples', None)
        if self.channel_conversion and inputs[0].size(0) == 3:
            inputs = [x[[2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if self._enable_normalize:
            inputs = [(x - self.mean) / self.std for x in inputs]
        inputs, padded = stack_batch(
            inputs=inputs,
            size_divisor=1,
            pad_val=self.pad_val,
            seg_pad_val=self.seg_pad_val)
        if data_samples is not None:
            for sample, pad_info in zip(data_samples, padded):
                sample.set_metainfo(dict(pad_info))
        return dict(inputs=inputs, data_samples=data_samples)


__all__ = ['RRSISDataPreProcessor']
