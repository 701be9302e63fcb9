"""A generated georeferenced scene: the generator's tiles stitched into a
large GeoTIFF, in 8-bit RGB and 16-bit 4-band variants, with ground truth.

Tiles of :func:`~mmrrsis.datasets.synthetic.generate_scene` are laid side
by side (roads and objects do not continue across tile borders) and
written row of tiles by row of tiles, so a scene of any size is generated
in bounded memory:

.. code-block:: none

    out_dir/
      <name>_rgb8.tif      uint8 R, G, B; nodata border as an internal mask
      <name>_bgrn16.tif    uint16 B, G, R, NIR; nodata = 0
      <name>_gt/gt_<k>.tif uint8 ground truth of expression k
                           (0, 1, 255 = nodata), on the same grid
      <name>.json          expressions, files, grid, how the variants
                           relate

Both rasters: projected CRS (UTM zone 32N by default), a north-up
transform with the tiles' ground resolution (0.13 m at 512 px tiles, the
generator's SkyScapes-like scale; 0.52 m at 128 px), tiled and
compressed, with a nodata border (a margin on every side and a cut
corner).

The variants hold the same content: band ``b`` of the uint16 file is
``offset[b] + gain[b] * u8`` of the 8-bit file (and NIR is derived), so
``bands=(3, 2, 1)`` with ``scale='minmax'``, ``min_value=offset`` and
``max_value=offset + 255 * gain`` maps it back exactly. With
``stretch=s`` (percent), the 8-bit variant is itself a linear stretch of
the tiles that saturates at least ``s`` percent of the valid pixels at 0
and at 255 in each band (what 8-bit deliveries of 16-bit data look like);
for ``s`` above 2, the 2nd / 98th percentiles of either variant are then
its darkest / brightest values and ``scale='percentile'`` maps the uint16
file back to the 8-bit one exactly. Without ``stretch`` the 8-bit variant
shows the tiles as the generator draws them (as the out-of-the-box model
was trained on).

The ground truth of an expression is, tile by tile, the objects of that
tile it refers to (its attributes and relations are the tile's, e.g.
"along the road" means a road of the same tile).
"""
import json
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import ProgressBar, mkdir_or_exist

from .expressions import RULES
from .scene import Scene, generate_scene

#: Expressions of the default scene (all in the generator's grammar).
DEFAULT_EXPRESSIONS = ('vehicle', 'car', 'long truck',
                       'building along the road', 'road marking', 'tree')
#: uint16 variant: per band (B, G, R, NIR) value = offset + gain * u8.
UINT16_OFFSET = (180, 200, 160, 220)
UINT16_GAIN = (14, 15, 16, 13)
#: Band names of the uint16 variant.
BGRN = ('blue', 'green', 'red', 'nir')


def _rule(text: str):
    for rule in RULES:
        if rule.text == text:
            return rule
    known = ', '.join(sorted(r.text for r in RULES))
    raise ValueError(f'{text!r} is not an expression of the generator; '
                     f'choose from: {known}')


def valid_rows(y0: int, y1: int, height: int, width: int,
               border: int) -> np.ndarray:
    """Rows [y0, y1) of the scene's footprint: (y1 - y0, W) bool, valid
    inside a ``border`` margin, with the top-left corner cut."""
    yy = np.arange(y0, y1)[:, None]
    xx = np.arange(width)[None, :]
    cut = min(height, width) // 4
    return ((yy >= border) & (yy < height - border) & (xx >= border) &
            (xx < width - border) & (yy + xx >= cut + border))


def _nir(scene: Scene) -> np.ndarray:
    """An 8-bit near-infrared band: bright vegetation, dark water-free
    impervious surfaces (derived from the instance categories)."""
    lut = np.zeros(len(scene.objects), np.float32)
    for obj in scene.objects[1:]:
        lut[obj.id] = {'low vegetation': 1.5, 'tree': 1.7}.get(
            obj.category, 0.7)
    green = scene.image[..., 1].astype(np.float32)
    return np.clip(green * lut[scene.instance_map], 0, 255).astype(np.uint8)


def _stretch_lut(hist: np.ndarray, percent: float) -> np.ndarray:
    """uint8 LUT of a linear stretch saturating >= ``percent`` % at each
    end of a 256-bin histogram."""
    cdf = np.cumsum(hist) / max(hist.sum(), 1)
    low = int(np.searchsorted(cdf, percent / 100.))
    tail = np.cumsum(hist[::-1]) / max(hist.sum(), 1)
    high = 255 - int(np.searchsorted(tail, percent / 100.))
    if high <= low:
        return np.arange(256, dtype=np.uint8)
    values = (np.arange(256) - low) / (high - low) * 255.
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


class _Tiles:
    """The tiles of a scene, drawn row by row (tile ``i`` depends only on
    ``(seed, i)``)."""

    def __init__(self, rows: int, cols: int, size: int, seed: int) -> None:
        self.rows, self.cols, self.size, self.seed = rows, cols, size, seed

    def row(self, r: int) -> List[Scene]:
        return [
            generate_scene(self.size,
                           np.random.default_rng([self.seed, r * self.cols +
                                                  c]))
            for c in range(self.cols)
        ]


def make_synthetic_geo_scene(out_dir: str,
                             tiles: Tuple[int, int] = (8, 8),
                             tile_size: int = 128,
                             seed: int = 1,
                             texts: Sequence[str] = DEFAULT_EXPRESSIONS,
                             gsd: Optional[float] = None,
                             crs: str = 'EPSG:32632',
                             origin: Tuple[float, float] = (500000.,
                                                            5400000.),
                             border: Optional[int] = None,
                             stretch: Optional[float] = None,
                             name: str = 'scene',
                             show_progress: bool = False) -> dict:
    """Write a generated georeferenced scene and its ground truth.

    Args:
        out_dir (str): Output folder (created).
        tiles (tuple[int, int]): Rows and columns of tiles. Defaults to
            (8, 8).
        tile_size (int): Tile side in pixels (the out-of-the-box model was
            trained on 128). Defaults to 128.
        seed (int): Seed of the tiles (the training set of the
            out-of-the-box config uses seed 0). Defaults to 1.
        texts (Sequence[str]): Expressions with ground truth (from the
            generator's grammar). Defaults to :data:`DEFAULT_EXPRESSIONS`.
        gsd (float, optional): Ground resolution in metres. Defaults to
            None (``0.13 * 512 / tile_size``).
        crs (str): A projected CRS. Defaults to 'EPSG:32632'.
        origin (tuple[float, float]): Easting and northing of the top-left
            corner. Defaults to (500000., 5400000.).
        border (int, optional): Nodata margin in pixels. Defaults to None
            (a quarter of a tile).
        stretch (float, optional): Make the 8-bit variant a stretch that
            saturates this percentage at each end (see the module).
            Defaults to None.
        name (str): File name stem. Defaults to 'scene'.
        show_progress (bool): Progress bar over tile rows. Defaults to
            False.

    Returns:
        dict: What ``<name>.json`` holds: ``rgb8``, ``bgrn16`` (paths),
        ``expressions`` (text and ground-truth file), ``size``, ``crs``,
        ``transform``, ``gsd``, ``uint16`` (offset, gain, the exact
        min/max of bands (3, 2, 1)) and ``stretch``.
    """
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    rows, cols = (int(t) for t in tiles)
    if rows < 1 or cols < 1:
        raise ValueError(f'tiles must be positive, got {tiles}')
    rules = [_rule(t) for t in texts]
    gsd = 0.13 * 512 / tile_size if gsd is None else float(gsd)
    height, width = rows * tile_size, cols * tile_size
    border = tile_size // 4 if border is None else int(border)
    if border * 2 >= min(height, width):
        raise ValueError(f'border {border} leaves nothing of a {height} x '
                         f'{width} scene')
    transform = from_origin(origin[0], origin[1], gsd, gsd)
    mkdir_or_exist(out_dir)
    gt_dir = osp.join(out_dir, f'{name}_gt')
    mkdir_or_exist(gt_dir)
    source = _Tiles(rows, cols, tile_size, seed)

    luts = None
    if stretch is not None:
        if not 0 < stretch < 50:
            raise ValueError(f'stretch must be a percentage in (0, 50), '
                             f'got {stretch}')
        hist = np.zeros((3, 256), np.int64)
        for r in range(rows):
            strip = np.concatenate([t.image for t in source.row(r)], axis=1)
            ok = valid_rows(r * tile_size, (r + 1) * tile_size, height,
                            width, border)
            for b in range(3):
                hist[b] += np.bincount(strip[..., b][ok], minlength=256)
        luts = [_stretch_lut(hist[b], stretch) for b in range(3)]

    common = dict(driver='GTiff', height=height, width=width, crs=crs,
                  transform=transform, tiled=True, blockxsize=256,
                  blockysize=256, compress='deflate')
    rgb_path = osp.join(out_dir, f'{name}_rgb8.tif')
    u16_path = osp.join(out_dir, f'{name}_bgrn16.tif')
    gt_paths = [osp.join(gt_dir, f'gt_{k:02d}.tif') for k in range(len(texts))]
    num_valid = 0
    bar = ProgressBar(rows) if show_progress else None
    offset = np.array(UINT16_OFFSET, np.uint16)[:, None, None]
    gain = np.array(UINT16_GAIN, np.uint16)[:, None, None]
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, GDAL_CACHEMAX=128), \
            rasterio.open(rgb_path, 'w', count=3, dtype='uint8',
                          photometric='RGB', **common) as rgb_dst, \
            rasterio.open(u16_path, 'w', count=4, dtype='uint16', nodata=0,
                          **common) as u16_dst:
        gts = [
            rasterio.open(p, 'w', count=1, dtype='uint8', nodata=255,
                          **common) for p in gt_paths
        ]
        try:
            for b, band in enumerate(BGRN):
                u16_dst.set_band_description(b + 1, band)
            for k, t in enumerate(texts):
                gts[k].set_band_description(1, t)
            for r in range(rows):
                row_tiles = source.row(r)
                y0 = r * tile_size
                ok = valid_rows(y0, y0 + tile_size, height, width, border)
                num_valid += int(ok.sum())
                image = np.concatenate([t.image for t in row_tiles], axis=1)
                if luts is not None:
                    image = np.stack(
                        [luts[b][image[..., b]] for b in range(3)], axis=-1)
                image = np.where(ok[..., None], image, 0).astype(np.uint8)
                window = Window(0, y0, width, tile_size)
                rgb_dst.write(image.transpose(2, 0, 1), window=window)
                rgb_dst.write_mask((ok * 255).astype(np.uint8),
                                   window=window)
                nir = np.concatenate([_nir(t) for t in row_tiles], axis=1)
                bgrn = np.stack([image[..., 2], image[..., 1], image[..., 0],
                                 nir]).astype(np.uint16)
                bgrn = np.where(ok, offset + gain * bgrn, 0)
                u16_dst.write(bgrn.astype(np.uint16), window=window)
                for k, rule in enumerate(rules):
                    mask = np.concatenate(
                        [t.mask_of(rule.select(t)) for t in row_tiles],
                        axis=1)
                    gts[k].write(np.where(ok, mask, 255).astype(np.uint8),
                                 1, window=window)
                if bar is not None:
                    bar.update()
        finally:
            for gt in gts:
                gt.close()
    if bar is not None:
        print()
    sel = [2, 1, 0]  # bands (3, 2, 1): R, G, B
    info = dict(
        rgb8=rgb_path,
        bgrn16=u16_path,
        expressions=[
            dict(text=t, gt=p) for t, p in zip(texts, gt_paths)
        ],
        size=[height, width],
        tiles=[rows, cols],
        tile_size=tile_size,
        seed=seed,
        crs=crs,
        transform=list(transform)[:6],
        gsd=gsd,
        border=border,
        valid_pixels=num_valid,
        uint16=dict(
            bands=list(BGRN),
            offset=list(UINT16_OFFSET),
            gain=list(UINT16_GAIN),
            rgb_bands=[3, 2, 1],
            min_value=[UINT16_OFFSET[i] for i in sel],
            max_value=[UINT16_OFFSET[i] + 255 * UINT16_GAIN[i]
                       for i in sel]),
        stretch=stretch)
    with open(osp.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump(info, f, indent=1)
    return info
