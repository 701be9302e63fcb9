"""GeoTIFF outputs of scene inference, written strip by strip, and the
progress record that lets an interrupted run resume."""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

import numpy as np

from .source import import_rasterio, quiet_georeferencing

#: Value of nodata pixels in the uint8 mask and score rasters.
NODATA = 255
#: Score rasters store round(probability * SCORE_SCALE); their GDAL scale
#: metadata (1 / SCORE_SCALE) gives the probability back.
SCORE_SCALE = 254
#: Block side of the tiled outputs; strips are written in whole block rows.
BLOCK = 256
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


def file_fingerprint(path: Optional[str]) -> Optional[dict]:
    """Path, size and modification time of a file (None: no file)."""
    if path is None:
        return None
    path = str(path)
    if '://' in path or not osp.exists(path):
        return dict(path=path)
    stat = os.stat(path)
    return dict(
        path=osp.abspath(path), size=stat.st_size, mtime=stat.st_mtime_ns)


class RunState:
    """The progress record of a scene run (a JSON file in the output
    folder).

    It holds a fingerprint of everything the outputs depend on (scene file,
    config, checkpoint, expressions, windows, blending, scaling, grid) and
    the number of rows of the model grid that are final on disk. A run
    with the same fingerprint continues after those rows; any difference
    starts over.

    Args:
        path (str): The JSON file.
        fingerprint (dict): What the outputs depend on (JSON-serialisable).
    """

    def __init__(self, path: str, fingerprint: dict) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.key = hashlib.sha1(
            json.dumps(fingerprint, sort_keys=True,
                       default=str).encode()).hexdigest()

    def load(self) -> Optional[dict]:
        """The saved record if it belongs to this run, else None."""
        if not osp.isfile(self.path):
            return None
        try:
            with open(self.path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        return record if record.get('key') == self.key else None

    def save(self, **fields) -> None:
        """Write the record atomically (a crash leaves the old one)."""
        record = dict(key=self.key, fingerprint=self.fingerprint, **fields)
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(record, f, indent=1, default=str)
        os.replace(tmp, self.path)
