"""An overview picture of a scene result: thumbnail, masks, legend."""
from typing import Optional, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .source import import_rasterio, quiet_georeferencing
from .write import colour_of


def read_decimated_mask(path: str, shape: tuple) -> np.ndarray:
    """A mask raster read at ``shape`` (nearest): (h, w) bool target."""
    rasterio = import_rasterio()
    from rasterio.enums import Resampling
    with quiet_georeferencing(), rasterio.open(path) as src:
        data = src.read(1, out_shape=shape, resampling=Resampling.nearest)
    return data == 1


def format_area(area: float, unit: str) -> str:
    """An area for a legend: ``1,234 m^2``, ``12.5 m^2``, ``1,234 px``."""
    if unit == 'px':
        return f'{int(round(area)):,} px'
    return f'{area:,.0f} {unit}' if area >= 100 else f'{area:.1f} {unit}'


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def draw_overview(thumbnail: np.ndarray,
                  valid: np.ndarray,
                  masks: Sequence[np.ndarray],
                  texts: Sequence[str],
                  areas: Optional[Sequence[float]] = None,
                  area_unit: str = 'm^2',
                  title: str = '',
                  opacity: float = 0.55,
                  legend: bool = True) -> np.ndarray:
    """Draw coloured masks on a scene thumbnail, with a legend below.

    Args:
        thumbnail (np.ndarray): (h, w, 3) uint8 RGB.
        valid (np.ndarray): (h, w) bool; nodata is striped grey.
        masks (Sequence[np.ndarray]): (h, w) bool per expression.
        texts (Sequence[str]): The expressions (legend).
        areas (Sequence[float], optional): Area per expression, shown in
            the legend. Defaults to None.
        area_unit (str): Unit of ``areas``. Defaults to 'm^2'.
        title (str): First legend line (scene name, size). Defaults to ''.
        opacity (float): Mask tint; each mask is also outlined in its
            colour. Defaults to 0.55.
        legend (bool): Draw the legend below the picture. Defaults to True.

    Returns:
        np.ndarray: (H, w', 3) uint8 RGB picture.
    """
    img = thumbnail.astype(np.float32).copy()
    stripes = ((np.add.outer(np.arange(img.shape[0]), np.arange(
        img.shape[1])) // 6) % 2).astype(bool)
    img[~valid] = np.where(stripes[~valid, None], 90., 140.)
    for k, mask in enumerate(masks):
        colour = np.array(colour_of(k), np.float32)
        img[mask] = (1 - opacity) * img[mask] + opacity * colour
    img = np.ascontiguousarray(img.clip(0, 255).astype(np.uint8))
    for k, mask in enumerate(masks):  # outlines keep overlaps readable
        contours, _ = cv2.findContours(mask.astype(np.uint8),
                                       cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, colour_of(k), 1)
    picture = Image.fromarray(img)
    if not legend:
        return np.asarray(picture)
    width = max(picture.width, 480)
    font = _font(16)
    line = 24
    lines = ([title] if title else []) + list(texts)
    panel = Image.new('RGB', (width, 12 + line * len(lines)),
                      (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    y = 6
    if title:
        draw.text((8, y), title, fill=(0, 0, 0), font=font)
        y += line
    for k, text in enumerate(texts):
        draw.rectangle([8, y + 3, 26, y + 19], fill=colour_of(k),
                       outline=(0, 0, 0))
        label = text
        if areas is not None:
            label += f'  ({format_area(areas[k], area_unit)})'
        draw.text((34, y + 2), label, fill=(0, 0, 0), font=font)
        y += line
    canvas = Image.new('RGB', (width, picture.height + panel.height),
                       (255, 255, 255))
    canvas.paste(picture, (0, 0))
    canvas.paste(panel, (0, picture.height))
    return np.asarray(canvas)
