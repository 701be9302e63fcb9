"""Draw referring masks and their expression on the image."""
from typing import List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from mmrrsis.registry import VISUALIZERS

Color = Tuple[int, int, int]


def _as_mask(mask, shape: Tuple[int, int]) -> np.ndarray:
    """A (H, W) bool mask of the target (value 1) at ``shape``."""
    if isinstance(mask, PixelData):
        mask = mask.data
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.ndim == 3:
        mask = mask[0]
    mask = (mask == 1).astype(np.uint8)
    if mask.shape != tuple(shape):
        mask = cv2.resize(
            mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return mask.astype(bool)


def wrap_text(text: str, width: int, font_scale: float,
              thickness: int) -> List[str]:
    """Split ``text`` into lines that fit ``width`` pixels.

    Args:
        text (str): The text; characters outside ASCII become ``?`` (the
            OpenCV fonts have no others).
        width (int): Available width in pixels.
        font_scale (float): OpenCV font scale.
        thickness (int): OpenCV line thickness.

    Returns:
        list[str]: The lines (a word longer than a line is cut).
    """
    text = text.encode('ascii', 'replace').decode('ascii')
    font = cv2.FONT_HERSHEY_SIMPLEX

    def fits(line: str) -> bool:
        return cv2.getTextSize(line, font, font_scale,
                               thickness)[0][0] <= width

    lines, line = [], ''
    for word in text.split():
        candidate = f'{line} {word}' if line else word
        if fits(candidate):
            line = candidate
            continue
        if line:
            lines.append(line)
        while not fits(word) and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and not fits(word[:cut]):
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines or ['']


@VISUALIZERS.register_module()
class RRSISLocalVisualizer(SegLocalVisualizer):
    """Visualizer of referring segmentation: masks and the expression.

    :meth:`add_datasample` draws the ground truth (left, green) and the
    prediction (right, red) as tinted, outlined regions over the image,
    leaving the rest of the image untouched, and prints the expression in a
    band below::

        +-------------------+-------------------+
        | ground truth      | prediction        |
        |     (image + gt)  |   (image + pred)  |
        +-------------------+-------------------+
        | "the car parked next to the building" |
        +---------------------------------------+

    Masks whose size differs from the image's (e.g. a ground truth at the
    network resolution) are resized to it with nearest neighbours.

    Args:
        name (str): Name of the instance. Defaults to 'visualizer'.
        image (np.ndarray, optional): (H, W, 3) RGB image to draw on.
            Defaults to None.
        vis_backends (list[dict], optional): Storage backends. Defaults to
            None.
        save_dir (str, optional): Folder of the storage backends. Defaults
            to None.
        alpha (float): Opacity of the mask tint. Defaults to 0.5.
        gt_color (tuple[int]): RGB colour of the ground truth. Defaults to
            (0, 255, 0).
        pred_color (tuple[int]): RGB colour of the prediction. Defaults to
            (255, 0, 0).
        font_scale (float, optional): OpenCV font scale of the expression;
            None scales it with the image width. Defaults to None.
        **kwargs: Other arguments of
            :class:`~mmseg.visualization.SegLocalVisualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None,
                 alpha: float = 0.5,
                 gt_color: Sequence[int] = (0, 255, 0),
                 pred_color: Sequence[int] = (255, 0, 0),
                 font_scale: Optional[float] = None,
                 **kwargs) -> None:
        kwargs.setdefault('classes', ('background', 'target'))
        kwargs.setdefault('palette', [[0, 0, 0], list(pred_color)])
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            alpha=alpha,
            **kwargs)
        self.gt_color = tuple(int(c) for c in gt_color)
        self.pred_color = tuple(int(c) for c in pred_color)
        self.font_scale = font_scale

    def draw_mask(self,
                  image: np.ndarray,
                  mask,
                  color: Sequence[int],
                  title: Optional[str] = None) -> np.ndarray:
        """Tint and outline the target region of ``mask`` on ``image``.

        Args:
            image (np.ndarray): (H, W, 3) RGB uint8 image.
            mask (Tensor | np.ndarray | PixelData): (H', W') or (1, H', W')
                mask, 1 = target; resized to (H, W) if needed.
            color (Sequence[int]): RGB colour.
            title (str, optional): Small label in the top-left corner,
                drawn on images of at least 200x200. Defaults to None.

        Returns:
            np.ndarray: (H, W, 3) RGB uint8 drawing.
        """
        out = image.copy()
        region = _as_mask(mask, image.shape[:2])
        color_arr = np.array(color, dtype=np.float32)
        out[region] = (out[region].astype(np.float32) * (1 - self.alpha) +
                       color_arr * self.alpha).astype(np.uint8)
        contours, _ = cv2.findContours(
            region.astype(np.uint8), cv2.RETR_EXTERNAL,
            cv2.CHAIN_APPROX_SIMPLE)
        thickness = max(1, min(image.shape[:2]) // 250)
        out = cv2.drawContours(
            np.ascontiguousarray(out), contours, -1,
            tuple(int(c) for c in color), thickness)
        if title and min(image.shape[:2]) >= 200:  # would hide small ones
            out = self._draw_title(out, title)
        return out

    def _scale(self, width: int) -> Tuple[float, int]:
        scale = self.font_scale or min(1.2, max(0.3, width / 700))
        return scale, max(1, int(round(scale * 1.5)))

    def _draw_title(self, image: np.ndarray, title: str) -> np.ndarray:
        scale, thickness = self._scale(image.shape[1])
        scale *= 0.8
        font = cv2.FONT_HERSHEY_SIMPLEX
        (w, h), base = cv2.getTextSize(title, font, scale, thickness)
        image[:h + base + 4, :w + 4] = 0
        return cv2.putText(image, title, (2, h + 2), font, scale,
                           (255, 255, 255), thickness, cv2.LINE_AA)

    def draw_text_band(self, image: np.ndarray, text: str) -> np.ndarray:
        """Append a white band with ``text`` (wrapped) below ``image``.

        Args:
            image (np.ndarray): (H, W, 3) RGB uint8 image.
            text (str): The expression.

        Returns:
            np.ndarray: (H + band, W, 3) RGB uint8 image.
        """
        width = image.shape[1]
        scale, thickness = self._scale(width)
        font = cv2.FONT_HERSHEY_SIMPLEX
        margin = max(2, int(6 * scale))
        lines = wrap_text(f'"{text}"', width - 2 * margin, scale, thickness)
        (_, line_h), base = cv2.getTextSize('Ag', font, scale, thickness)
        step = line_h + base + margin
        band = np.full((step * len(lines) + margin, width, 3),
                       255,
                       dtype=np.uint8)
        for i, line in enumerate(lines):
            band = cv2.putText(band, line, (margin, margin + line_h +
                                            i * step), font, scale,
                               (0, 0, 0), thickness, cv2.LINE_AA)
        return np.concatenate([image, band], axis=0)

    def draw_referring(self,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       with_text: bool = True,
                       text: Optional[str] = None) -> np.ndarray:
        """Draw ground truth and/or prediction side by side, with the text.

        Args:
            image (np.ndarray): (H, W, 3) RGB uint8 image.
            data_sample (SegDataSample, optional): With ``gt_sem_seg``
                and/or ``pred_sem_seg`` (1, H', W') and metainfo ``text``.
                Defaults to None.
            draw_gt (bool): Draw the ground truth if present. Defaults to
                True.
            draw_pred (bool): Draw the prediction if present. Defaults to
                True.
            with_text (bool): Print the expression below. Defaults to True.
            text (str, optional): The expression; defaults to the sample's
                ``text`` metainfo.

        Returns:
            np.ndarray: (H_out, W_out, 3) RGB uint8 drawing.
        """
        image = np.ascontiguousarray(image[..., :3]).astype(np.uint8)
        panels = []
        if data_sample is not None:
            if draw_gt and 'gt_sem_seg' in data_sample:
                panels.append(
                    self.draw_mask(image, data_sample.gt_sem_seg,
                                   self.gt_color, 'ground truth'))
            if draw_pred and 'pred_sem_seg' in data_sample:
                title = 'prediction' if panels else None
                panels.append(
                    self.draw_mask(image, data_sample.pred_sem_seg,
                                   self.pred_color, title))
        drawn = np.concatenate(panels, axis=1) if panels else image
        if text is None and data_sample is not None:
            text = data_sample.metainfo.get('text', None)
        if with_text and text is not None:
            drawn = self.draw_text_band(drawn, str(text))
        return drawn

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True,
                       text: Optional[str] = None) -> None:
        """Draw a sample, then show it, write it or send it to the backends.

        Args:
            name (str): Identifier of the image in the backends.
            image (np.ndarray): (H, W, 3) RGB uint8 image.
            data_sample (SegDataSample, optional): See
                :meth:`draw_referring`. Defaults to None.
            draw_gt (bool): Defaults to True.
            draw_pred (bool): Defaults to True.
            show (bool): Show it in a window. Defaults to False.
            wait_time (float): Seconds to show it. Defaults to 0.
            out_file (str, optional): Write it there (and not to the
                backends). Defaults to None.
            step (int): Step recorded by the backends. Defaults to 0.
            with_labels (bool): Print the expression. Defaults to True.
            text (str, optional): The expression, if not in the sample's
                metainfo. Defaults to None.
        """
        drawn = self.draw_referring(image, data_sample, draw_gt, draw_pred,
                                    bool(with_labels), text)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
