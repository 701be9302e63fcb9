"""The write stage of a scene: blended logits -> probabilities and masks
with the model's rule -> uint8 GeoTIFFs written strip by strip; the parts
written by several processes assembled into one set of outputs; outputs
of a resampled grid mapped back to the scene's."""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .blend import mean_logits
from .source import import_rasterio, quiet_georeferencing

#: Value of nodata pixels in the uint8 mask and score rasters.
NODATA = 255
#: Score rasters store round(probability * SCORE_SCALE); their GDAL scale
#: metadata (1 / SCORE_SCALE) gives the probability back.
SCORE_SCALE = 254
#: Block side of the tiled outputs; strips are written in whole block rows
#: (and the parts of several processes start on block rows).
BLOCK = 256
#: Rows converted from logits to outputs at a time (small temporaries).
CHUNK_ROWS = 32
#: Colours of the expressions (RGB), in order, in masks and overviews.
PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
           (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
           (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40))


def colour_of(index: int) -> tuple:
    """The RGB colour of the ``index``-th expression."""
    return PALETTE[index % len(PALETTE)]


def slug(text: str, length: int = 40) -> str:
    """A file-name friendly form of an expression (``long-truck``)."""
    words = re.findall(r'[a-z0-9]+', text.lower())
    return '-'.join(words)[:length].strip('-') or 'expression'


def output_names(stem: str, texts: Sequence[str]) -> List[Dict[str, str]]:
    """File names of each expression's mask and score rasters.

    Args:
        stem (str): The scene file's name without extension.
        texts (Sequence[str]): The expressions.

    Returns:
        list[dict]: ``mask`` and ``score`` file names per expression,
        ``<stem>_<k>_<slug>_mask.tif`` and ``..._score.tif``.
    """
    names = []
    for k, text in enumerate(texts):
        base = f'{stem}_{k:02d}_{slug(text)}'
        names.append(dict(mask=base + '_mask.tif',
                          score=base + '_score.tif'))
    return names


def raster_profile(height: int, width: int, crs, transform, dtype: str,
                   nodata) -> dict:
    """Profile of a tiled, DEFLATE-compressed single-band GeoTIFF."""
    return dict(
        driver='GTiff',
        height=height,
        width=width,
        count=1,
        dtype=dtype,
        nodata=nodata,
        crs=crs,
        transform=transform,
        tiled=True,
        blockxsize=BLOCK,
        blockysize=BLOCK,
        compress='deflate',
        BIGTIFF='IF_SAFER')


class StripWriter:
    """Single-band GeoTIFFs that receive full-width strips of rows.

    Each file is created (empty) once; every :meth:`write` opens it in
    update mode, writes the rows and closes it, so rows written are on
    disk when :meth:`write` returns (what resuming relies on). Strips
    start on block rows, so each compressed block is written once.

    Args:
        paths (Sequence[str]): One file per band of data.
        profile (dict): Their common profile (see :func:`raster_profile`).
        descriptions (Sequence[str], optional): Band description of each
            file (the expression). Defaults to None.
        tags (dict, optional): Metadata written into every file. Defaults
            to None.
        colours (Sequence[tuple], optional): For uint8 masks, the colour of
            value 1 in each file's colour table. Defaults to None.
        scale (float, optional): GDAL scale metadata of the band. Defaults
            to None.
        create (bool): Create the files (False: resume into existing
            ones). Defaults to True.
    """

    def __init__(self,
                 paths: Sequence[str],
                 profile: dict,
                 descriptions: Optional[Sequence[str]] = None,
                 tags: Optional[dict] = None,
                 colours: Optional[Sequence[tuple]] = None,
                 scale: Optional[float] = None,
                 create: bool = True) -> None:
        self.paths = list(paths)
        self.profile = profile
        if not create:
            missing = [p for p in self.paths if not osp.isfile(p)]
            if missing:
                raise FileNotFoundError(
                    f'Cannot resume: {missing[0]} is missing')
            return
        rasterio = import_rasterio()
        for i, path in enumerate(self.paths):
            with quiet_georeferencing(), rasterio.open(path, 'w',
                                                       **profile) as dst:
                if descriptions is not None:
                    dst.set_band_description(1, descriptions[i])
                    dst.update_tags(1, expression=descriptions[i])
                if tags:
                    dst.update_tags(**tags)
                if colours is not None:
                    dst.write_colormap(1, {
                        0: (0, 0, 0, 0),
                        1: tuple(colours[i]) + (255, ),
                        NODATA: (0, 0, 0, 0)
                    })
                if scale is not None:
                    dst.scales = (scale, )

    def write(self, y0: int, data: np.ndarray) -> None:
        """Write rows starting at ``y0``.

        Args:
            y0 (int): First row.
            data (np.ndarray): (N, rows, W), one plane per file.
        """
        rasterio = import_rasterio()
        from rasterio.windows import Window
        rows, width = data.shape[1:]
        for path, plane in zip(self.paths, data):
            with quiet_georeferencing(), rasterio.open(path, 'r+') as dst:
                dst.write(plane, 1, window=Window(0, y0, width, rows))




class SceneOutputs:
    """The final rasters of a scene: per expression a mask (0 background,
    1 target, 255 nodata; colour table) and a score (probability x 254;
    GDAL scale 1/254), on the scene's grid, georeferenced.

    Args:
        masks (Sequence[str]): Mask files.
        scores (Sequence[str]): Score files.
        texts (Sequence[str]): The expressions (band descriptions).
        profile (dict): The scene's uint8 profile (:func:`raster_profile`).
        tags (dict): Metadata of every file.
        create (bool): Create the files. Defaults to True.
    """

    def __init__(self, masks: Sequence[str], scores: Sequence[str],
                 texts: Sequence[str], profile: dict, tags: dict,
                 create: bool = True) -> None:
        colours = [colour_of(k) for k in range(len(texts))]
        self.masks = StripWriter(masks, profile, texts, tags, colours,
                                 create=create)
        self.scores = StripWriter(scores, profile, texts, tags,
                                  scale=1. / SCORE_SCALE, create=create)
        self.num = len(texts)

    def write(self, y0: int, data: np.ndarray) -> None:
        """Write rows from ``y0``: ``data`` (2E, rows, W), the masks then
        the scores."""
        self.masks.write(y0, data[:self.num])
        self.scores.write(y0, data[self.num:])


def _blended_probs(predictor, acc: np.ndarray, wsum: np.ndarray,
                   valid: np.ndarray):
    """(first row, end row, probabilities (E, r, W), valid and seen by a
    window (r, W)) of finished rows, :data:`CHUNK_ROWS` at a time (the
    temporaries stay small)."""
    rows = acc.shape[2]
    for a in range(0, rows, CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, rows)
        ok = valid[a:b] & (wsum[a:b] > 0)
        yield a, b, predictor.probs(mean_logits(acc[:, :, a:b], wsum[a:b])), ok


def to_rasters(predictor, acc: np.ndarray, wsum: np.ndarray,
               valid: np.ndarray) -> np.ndarray:
    """Finished rows: weighted logit sums -> the final rasters' values,
    with the model's rule (:meth:`~mmrrsis.apis.WindowPredictor.probs` /
    ``masks``).

    Args:
        predictor (WindowPredictor): The model's rule.
        acc (np.ndarray): (E, K, k, W) weighted logit sums.
        wsum (np.ndarray): (k, W) weight sums (0: no window ran).
        valid (np.ndarray): (k, W) bool, not nodata.

    Returns:
        np.ndarray: (2E, k, W) uint8: the masks (0, 1, 255 nodata), then
        the scores (probability x 254, 255 nodata).
    """
    num, _, rows, width = acc.shape
    out = np.empty((2 * num, rows, width), np.uint8)
    for a, b, prob, ok in _blended_probs(predictor, acc, wsum, valid):
        out[:num, a:b] = np.where(ok, predictor.masks(prob), NODATA)
        out[num:, a:b] = np.where(
            ok, np.rint(prob * SCORE_SCALE).astype(np.uint8), NODATA)
    return out


def to_probabilities(predictor, acc: np.ndarray, wsum: np.ndarray,
                     valid: np.ndarray) -> np.ndarray:
    """Finished rows of a resampled grid: the target probabilities (mapped
    back to the scene's grid later, :func:`map_back`).

    Args:
        predictor (WindowPredictor): The model's rule.
        acc (np.ndarray): (E, K, k, W) weighted logit sums.
        wsum (np.ndarray): (k, W) weight sums (0: no window ran).
        valid (np.ndarray): (k, W) bool, not nodata.

    Returns:
        np.ndarray: (E, k, W) float32, 0 where invalid.
    """
    num, _, rows, width = acc.shape
    out = np.empty((num, rows, width), np.float32)
    for a, b, prob, ok in _blended_probs(predictor, acc, wsum, valid):
        out[:, a:b] = np.where(ok, prob, 0.)
    return out


def quantize_probs(predictor, prob: np.ndarray,
                   valid: np.ndarray) -> np.ndarray:
    """Probabilities on the scene's grid -> (2E, k, W) uint8 masks then
    scores (see :func:`to_rasters`)."""
    mask = np.where(valid, predictor.masks(prob).astype(np.uint8), NODATA)
    score = np.where(valid, np.rint(prob * SCORE_SCALE), NODATA)
    return np.concatenate([mask, score]).astype(np.uint8)


def part_files(folder: str, names: Sequence[str]) -> List[str]:
    """The files of one process's part of the outputs."""
    return [osp.join(folder, osp.basename(n)) for n in names]


def assemble(parts: Sequence[Tuple[int, int, Sequence[str]]],
             writer: 'StripWriter', strip: int = BLOCK) -> None:
    """Copy the parts of several processes into the final rasters.

    Strips of ``strip`` rows, top to bottom, whatever the parts: the
    final files' bytes do not depend on how many processes wrote them.

    Args:
        parts (Sequence[tuple]): ``(y0, y1, files)``: rows [y0, y1) of
            each output, block-aligned, covering the grid in order.
        writer (StripWriter): The final rasters (same order as each
            part's files).
        strip (int): Rows per write. Defaults to :data:`BLOCK`.
    """
    rasterio = import_rasterio()
    from rasterio.windows import Window
    for y0, y1, files in parts:
        with quiet_georeferencing():  # parts carry no georeferencing
            sources = [rasterio.open(f) for f in files]
        try:
            for a in range(y0, y1, strip):
                b = min(a + strip, y1)
                data = np.stack([
                    src.read(1, window=Window(0, a - y0, src.width, b - a))
                    for src in sources
                ])
                writer.write(a, data)
        finally:
            for src in sources:
                src.close()


def upsample_rows(src, y0: int, y1: int, sy: float, sx: float,
                  width: int) -> np.ndarray:
    """Rows [y0, y1) of a fine grid, bilinear from a coarse raster.

    Pixel centres are aligned (``coarse = (fine + 0.5) / s - 0.5``,
    clamped at the borders); only the coarse rows needed are read, so
    strips join without seams.

    Args:
        src: An open rasterio dataset (the coarse grid, band 1).
        y0, y1 (int): Fine rows.
        sy, sx (float): Fine pixels per coarse pixel.
        width (int): Fine width.

    Returns:
        np.ndarray: (y1 - y0, width) float32.
    """
    from rasterio.windows import Window
    ys = np.clip((np.arange(y0, y1) + 0.5) / sy - 0.5, 0, src.height - 1)
    m0 = int(np.floor(ys.min()))
    m1 = min(int(np.floor(ys.max())) + 2, src.height)
    strip = src.read(1, window=Window(0, m0, src.width, m1 - m0))
    strip = strip.astype(np.float32)
    yi = np.floor(ys).astype(int)
    fy = (ys - yi).astype(np.float32)[:, None]
    y_lo = yi - m0
    y_hi = np.minimum(y_lo + 1, m1 - m0 - 1)
    rows = strip[y_lo] * (1 - fy) + strip[y_hi] * fy
    xs = np.clip((np.arange(width) + 0.5) / sx - 0.5, 0, src.width - 1)
    xi = np.floor(xs).astype(int)
    fx = (xs - xi).astype(np.float32)
    x_hi = np.minimum(xi + 1, src.width - 1)
    return rows[:, xi] * (1 - fx) + rows[:, x_hi] * fx


def map_back(source, predictor, probs: Sequence[str],
             writer: 'StripWriter') -> None:
    """Model-grid probabilities -> masks and scores on the scene's grid
    (bilinear, strip by strip).

    Args:
        source (SceneSource): The open scene (grid sizes and validity).
        predictor (WindowPredictor): The model's rule.
        probs (Sequence[str]): A float32 probability raster per
            expression, on the model grid.
        writer (StripWriter): The final masks then scores.
    """
    rasterio = import_rasterio()
    height, width = source.scene_height, source.scene_width
    datasets = [rasterio.open(p) for p in probs]
    try:
        for y0 in range(0, height, BLOCK):
            y1 = min(y0 + BLOCK, height)
            prob = np.stack([
                upsample_rows(ds, y0, y1, source.sy, source.sx, width)
                for ds in datasets
            ])
            writer.write(
                y0, quantize_probs(predictor, prob,
                                   source.scene_valid(y0, y1)))
    finally:
        for ds in datasets:
            ds.close()
