"""The window predictor: the one way the inference API runs a model on
windows of an image (tiles, sliding windows, scenes, the app).

Built once from a model and its expressions (cleaned by the pipeline's
text steps only, encoded once), it turns a window into the logits of
every expression and logits into probabilities and masks with the
model's own rule (:meth:`~mmrrsis.models.RRSISEncoderDecoder.
predict_probs` / ``probs_to_mask``, the code of ``predict``). A model
whose image side never sees the text (late fusion) encodes each window
once for all expressions; an early-fusion model runs every expression
through the backbone. Nothing else in :mod:`mmrrsis.apis` touches the
model's layers.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from mmrrsis.utils import autocast_context, check_precision, window_grid

from .pipeline import InferencePipeline

ArrayOrTensor = Union[np.ndarray, Tensor]


class WindowPredictor:
    """A model and fixed expressions: windows in, logits, probabilities
    and masks out.

    Args:
        model (nn.Module): A segmentor from :func:`~mmrrsis.apis.init_model`
            (``cfg``, ``data_preprocessor``, ``encode_text``,
            ``image_features_are_text_free``, ``encode_image`` /
            ``decode_text`` or ``encode_decode``, ``predict_probs``,
            ``probs_to_mask``; ``window_outputs`` and
            ``no_target_logits`` when it has a no-target branch).
        texts (Sequence[str]): The expressions.
        pipeline (InferencePipeline, optional): Prepares windows and
            cleans the expressions. Defaults to None (the config's test
            pipeline without resizing or scaling: windows come as 8-bit
            images).
        batch_size (int, optional): Most expressions per forward pass.
            Defaults to None (all of them).
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'`` (see
            :mod:`mmrrsis.utils.precision`). Defaults to 'fp32'.

    Attributes:
        texts (list[str]): The cleaned expressions, in order.
        num_classes (int): K, the channels of the logits.
    """

    def __init__(self,
                 model: nn.Module,
                 texts: Sequence[str],
                 pipeline: Optional[InferencePipeline] = None,
                 batch_size: Optional[int] = None,
                 precision: str = 'fp32') -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.model = model
        self.pipeline = pipeline or InferencePipeline(
            model.cfg, keep_size=True, scaling={})
        self.batch_size = batch_size
        self.device = str(next(model.parameters()).device)
        self.precision = check_precision(precision, self.device)
        # the text steps' records carry what the encoder's meta_keys name
        records = [self.pipeline.text_record(t) for t in texts]
        self.texts = [r['text'] for r in records]
        self.num_classes = int(model.out_channels)
        with torch.no_grad(), autocast_context(precision, self.device):
            self.text = model.encode_text(self.texts, records)

    # ------------------------------------------------------------ windows
    def prepare(self, bgr: np.ndarray) -> Tuple[Tensor, dict]:
        """A window as the model's input.

        Args:
            bgr (np.ndarray): (h, w, 3) uint8 BGR.

        Returns:
            tuple[Tensor, dict]: (1, 3, h, w) normalised input and its
            metainfo.
        """
        packed = self.pipeline.pack_image(np.ascontiguousarray(bgr))
        data = self.model.data_preprocessor(
            dict(inputs=[packed['inputs']],
                 data_samples=[packed['data_samples']]), False)
        return data['inputs'], data['data_samples'][0].metainfo

    def logits(self, inputs: Tensor, meta: Optional[dict] = None) -> Tensor:
        """Every expression's logits on one window.

        A sample that the model's no-target branch (if any) calls empty
        votes background (:meth:`no_target_logits`), so blending keeps
        one rule.

        Args:
            inputs (Tensor): (1, 3, h, w) normalised window.
            meta (dict, optional): Its metainfo. Defaults to None.

        Returns:
            Tensor: (E, K, h, w) float32 logits.
        """
        model = self.model
        num = len(self.texts)
        size = self.batch_size or num
        # a torch.Size img_shape: mmseg's heads resize to it (not to the
        # padded shape of the whole image)
        base = dict(meta or {}, img_shape=inputs.shape[2:])
        out = []
        with torch.no_grad(), autocast_context(self.precision, self.device):
            image_feats = (model.encode_image(inputs)
                           if model.image_features_are_text_free else None)
            for s in range(0, num, size):
                n = min(size, num - s)
                metas = [dict(base, text=self.texts[s + i]) for i in range(n)]
                batch = None if image_feats is not None else \
                    inputs.expand(n, -1, -1, -1).contiguous()
                out.append(self._outputs(batch, metas,
                                         self.text.rows(slice(s, s + n)),
                                         image_feats))
        return torch.cat(out)

    def _outputs(self, batch: Optional[Tensor], metas: List[dict], text,
                 image_feats: Optional[list]) -> Tensor:
        """A segmentor's logits of a window batch: ``window_outputs``
        (RRSISEncoderDecoder: with the no-target branch's votes), else the
        contract's ``decode_text`` / ``encode_decode``."""
        model = self.model
        if hasattr(model, 'window_outputs'):
            logits, no_target = model.window_outputs(
                batch, metas, text, image_feats=image_feats)
            return model.no_target_logits(logits.float(), no_target)
        if image_feats is not None:
            return model.decode_text(image_feats, text, metas).float()
        return model.encode_decode(batch, metas, text).float()

    def window_logits(self, bgr: np.ndarray) -> np.ndarray:
        """:meth:`logits` of an (h, w, 3) uint8 BGR window, as numpy.

        Returns:
            np.ndarray: (E, K, h, w) float32.
        """
        inputs, meta = self.prepare(bgr)
        return self.logits(inputs, meta).cpu().numpy()

    def tile_logits(self, inputs: Tensor, crop: Tuple[int, int],
                    stride: Tuple[int, int],
                    meta: Optional[dict] = None) -> Tensor:
        """Sliding windows over an image in memory, averaged (mmseg's
        slide inference, on :func:`~mmrrsis.utils.window_grid`).

        Args:
            inputs (Tensor): (1, 3, H, W) normalised image.
            crop (tuple[int, int]): Window (h, w).
            stride (tuple[int, int]): Step (h, w).
            meta (dict, optional): Its metainfo. Defaults to None.

        Returns:
            Tensor: (E, K, H, W) float32 logits.
        """
        _, _, height, width = inputs.shape
        acc = torch.zeros((len(self.texts), self.num_classes, height, width),
                          device=inputs.device)
        count = torch.zeros((1, 1, height, width), device=inputs.device)
        for y1, y2, x1, x2 in window_grid(height, width, crop, stride):
            acc[:, :, y1:y2, x1:x2] += self.logits(
                inputs[:, :, y1:y2, x1:x2], meta)
            count[:, :, y1:y2, x1:x2] += 1
        return acc / count

    # ------------------------------------------------------ the one rule
    def probs(self, logits: ArrayOrTensor) -> ArrayOrTensor:
        """Target probabilities with the model's rule.

        Args:
            logits (np.ndarray | Tensor): (E, K, h, w) logits (e.g. blended
                windows).

        Returns:
            np.ndarray | Tensor: (E, h, w) float32, the type of the input.
        """
        is_array = isinstance(logits, np.ndarray)
        tensor = torch.from_numpy(logits) if is_array else logits
        probs = self.model.predict_probs(tensor.float())[:, 0]
        return probs.numpy() if is_array else probs

    def masks(self, probs: ArrayOrTensor) -> ArrayOrTensor:
        """Masks with the model's threshold.

        Args:
            probs (np.ndarray | Tensor): (E, h, w) from :meth:`probs`.

        Returns:
            np.ndarray | Tensor: (E, h, w) bool, the type of the input.
        """
        is_array = isinstance(probs, np.ndarray)
        tensor = torch.from_numpy(probs) if is_array else probs
        masks = self.model.probs_to_mask(tensor[:, None])
        return masks.numpy() if is_array else masks


def same_image_groups(inputs: List[Tensor]) -> List[List[int]]:
    """Indices of consecutive equal images (one image, several
    expressions), so each image is predicted once for all of them."""
    groups: List[List[int]] = []
    for i, image in enumerate(inputs):
        if groups:
            first = inputs[groups[-1][0]]
            if first.shape == image.shape and torch.equal(first, image):
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


__all__ = ['WindowPredictor', 'same_image_groups']
