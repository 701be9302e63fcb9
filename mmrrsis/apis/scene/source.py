"""The read stage of a scene: a scene file read window by window as the
model's 8-bit RGB input (the file is opened in one place,
:func:`open_raster`)."""
import contextlib
import math
import warnings
from typing import Optional, Tuple

import numpy as np

from mmrrsis.datasets.band_scaling import BandScaling, ScalingRange
from mmrrsis.datasets.raster_io import open_raster as open_checked_raster
from mmrrsis.utils.optional_deps import import_rasterio as _import_rasterio

#: The scaling range before it is computed.
_UNFITTED = object()


def import_rasterio():
    """rasterio, or an ImportError that says how to install it."""
    return _import_rasterio('Scene inference')


@contextlib.contextmanager
def quiet_georeferencing():
    """Silence rasterio's NotGeoreferencedWarning (plain PNG / JPEG scenes
    are supported; the summary says they have no georeferencing)."""
    from rasterio.errors import NotGeoreferencedWarning
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        yield


def open_raster(path: str,
                allow_vrt: bool = False,
                what: str = 'scene'):
    """Open a user's raster for reading: the one place scenes and the web
    app do it, through the raster opener
    (:func:`mmrrsis.datasets.raster_io.open_raster`: formats allowed by
    content, VRT only when asked, no side files, no network, decode errors
    raised).

    Args:
        path (str): The file.
        allow_vrt (bool): Open a VRT mosaic (checked). Defaults to False
            (the web app never sets it).
        what (str): What the file is, for messages. Defaults to 'scene'.

    Returns:
        RasterFile: The open raster (a rasterio dataset whose reads are
        checked; close it, or use ``with``).

    Raises:
        FileNotFoundError: A missing file.
        IsADirectoryError: A folder.
        RasterError: A refused format or path (``UnsupportedRasterError``),
            or a damaged file (``RasterDecodeError``); both are
            ``ValueError``.
    """
    import_rasterio()
    return open_checked_raster(path, allow_vrt=allow_vrt, what=what)


def inspect_raster(path: str, allow_vrt: bool = False,
                   what: str = 'scene') -> dict:
    """Size, dtype, band count and the bands that look like R, G, B.

    The RGB bands are read from the band descriptions (``red``, ...) or
    the colour interpretation; without them, the first three bands (or
    band 1 repeated for fewer than three).

    Args:
        path (str): The file, opened by :func:`open_raster`.
        allow_vrt (bool): See :func:`open_raster`. Defaults to False.
        what (str): See :func:`open_raster`. Defaults to 'scene'.

    Returns:
        dict: ``height``, ``width``, ``count``, ``dtype``, ``bands``
        (three 1-based indices) and ``georeferenced``.
    """
    from rasterio.enums import ColorInterp
    with open_raster(path, allow_vrt=allow_vrt, what=what) as ds:
        names = [(d or '').lower() for d in ds.descriptions]
        interp = list(ds.colorinterp)
        rgb = []
        for name, ci in (('red', ColorInterp.red),
                         ('green', ColorInterp.green),
                         ('blue', ColorInterp.blue)):
            if name in names:
                rgb.append(names.index(name) + 1)
            elif ci in interp:
                rgb.append(interp.index(ci) + 1)
        bands = rgb if len(rgb) == 3 else [1, 2, 3][:ds.count] + [1] * (
            3 - min(3, ds.count))
        return dict(height=ds.height, width=ds.width, count=ds.count,
                    dtype=ds.dtypes[0], bands=bands,
                    georeferenced=ds.crs is not None)


def is_georeferenced(dataset) -> bool:
    """Whether a rasterio dataset has a CRS or a non-identity transform."""
    from affine import Affine
    return dataset.crs is not None or dataset.transform != Affine.identity()


class SceneSource:
    """A scene read window by window, on the grid the model runs on.

    The scene is opened through the raster opener
    (:func:`~mmrrsis.datasets.raster_io.open_raster`: formats allowed by
    content, no side files, no network, decode errors raised) and never
    read whole: windows are read as they are needed, and the scaling range
    (percentiles) is computed once, at first use, on a decimated read
    (nearest neighbour, at most ``fit_pixels`` pixels; GDAL uses the
    file's internal overviews when it has them). With ``gsd``, the model
    grid is the scene resampled to that ground resolution (``average``
    when shrinking, ``bilinear`` when enlarging), read window by window
    with GDAL's resampling.

    Args:
        path (str): Scene file (GeoTIFF / COG, PNG, JPEG, JPEG 2000).
        scaling (BandScaling): Band selection and scaling.
        gsd (float, optional): Ground resolution (CRS units per pixel) the
            model runs at. Defaults to None (the scene's own grid).
        fit_pixels (int): Most pixels of the decimated read the
            percentiles come from. Defaults to 4,000,000.
        allow_vrt (bool): Open a VRT mosaic (checked, see
            :func:`~mmrrsis.datasets.raster_io.check_vrt`). Defaults to
            False.

    Attributes:
        height, width (int): Size of the model grid.
        scene_height, scene_width (int): Size of the scene.
        range (ScalingRange | None): The fitted scaling range.
        resampled (bool): Whether the model grid differs from the scene's.
    """

    def __init__(self,
                 path: str,
                 scaling: BandScaling,
                 gsd: Optional[float] = None,
                 fit_pixels: int = 4_000_000,
                 allow_vrt: bool = False) -> None:
        self.path = path
        self.scaling = scaling
        self.dataset = open_raster(path, allow_vrt=allow_vrt, what='scene')
        ds = self.dataset
        try:
            scaling.check(ds.dtypes[0], ds.count, path)
        except ValueError:
            ds.close()
            raise
        self.indexes = scaling.indexes(ds.count, path)
        self.georeferenced = is_georeferenced(ds)
        self.crs = ds.crs
        self.scene_transform = ds.transform
        self.scene_height, self.scene_width = ds.height, ds.width
        self.height, self.width = ds.height, ds.width
        self.sy = self.sx = 1.
        self.scene_gsd = (abs(ds.transform.a), abs(ds.transform.e))
        if gsd is not None:
            self._set_gsd(float(gsd))
        self.resampled = (self.height, self.width) != (ds.height, ds.width)
        self.transform = ds.transform @ ds.transform.scale(self.sx, self.sy)
        self._fit_pixels = fit_pixels
        self._range = _UNFITTED

    @property
    def range(self) -> Optional[ScalingRange]:
        """The fitted scaling range (computed at first use)."""
        if self._range is _UNFITTED:
            self._range = self._fit(self._fit_pixels)
        return self._range

    def _set_gsd(self, gsd: float) -> None:
        ds = self.dataset
        if gsd <= 0:
            raise ValueError(f'gsd must be positive, got {gsd}')
        if not self.georeferenced:
            raise ValueError(
                f'{self.path} has no georeferencing, so its ground '
                'resolution is unknown and gsd cannot be used; run without '
                'gsd (the image is taken at its own resolution).')
        if ds.crs is not None and ds.crs.is_geographic:
            raise ValueError(
                f'{self.path} has a geographic CRS ({ds.crs}: degrees), so '
                'a ground resolution in metres does not apply; reproject '
                'it to a projected CRS (e.g. UTM) first.')
        if ds.transform.b or ds.transform.d:
            raise ValueError(f'{self.path} has a rotated transform; gsd '
                             'resampling needs a north-up scene.')
        res_x, res_y = self.scene_gsd
        self.width = max(1, int(round(ds.width * res_x / gsd)))
        self.height = max(1, int(round(ds.height * res_y / gsd)))
        # exact ratios, so the model grid covers exactly the scene
        self.sx = ds.width / self.width
        self.sy = ds.height / self.height

    @property
    def gsd(self) -> Tuple[float, float]:
        """Ground resolution (x, y) of the model grid (CRS units)."""
        return (self.scene_gsd[0] * self.sx, self.scene_gsd[1] * self.sy)

    def _fit(self, fit_pixels: int) -> Optional[ScalingRange]:
        if self.scaling.scale != 'percentile':
            return self.scaling.fit(np.zeros((3, 1, 1), np.uint8))
        ds = self.dataset
        factor = max(1., math.sqrt(ds.height * ds.width / fit_pixels))
        shape = (max(1, int(math.ceil(ds.height / factor))),
                 max(1, int(math.ceil(ds.width / factor))))
        from rasterio.enums import Resampling
        data = ds.read(self.indexes, out_shape=(3, ) + shape,
                       resampling=Resampling.nearest)
        valid = ds.dataset_mask(out_shape=shape,
                                resampling=Resampling.nearest) > 0
        return self.scaling.fit(data, valid, self.path)

    def _scene_window(self, y0: float, y1: float, x0: float, x1: float):
        from rasterio.windows import Window
        return Window(x0 * self.sx, y0 * self.sy, (x1 - x0) * self.sx,
                      (y1 - y0) * self.sy)

    def _resampling(self):
        from rasterio.enums import Resampling
        return (Resampling.average
                if self.sx > 1 or self.sy > 1 else Resampling.bilinear)

    def read(self, y0: int, y1: int, x0: int,
             x1: int) -> Tuple[np.ndarray, np.ndarray]:
        """A window of the model grid.

        Args:
            y0, y1, x0, x1 (int): Rows [y0, y1) and columns [x0, x1).

        Returns:
            tuple[np.ndarray, np.ndarray]: (h, w, 3) uint8 RGB (nodata
            pixels as the scaling maps the stored values, 0 for a
            zero-filled border) and (h, w) bool validity.
        """
        window = self._scene_window(y0, y1, x0, x1)
        shape = (y1 - y0, x1 - x0)
        if self.resampled:
            data = self.dataset.read(
                self.indexes, window=window, out_shape=(3, ) + shape,
                resampling=self._resampling())
        else:
            data = self.dataset.read(self.indexes, window=window)
        rgb = self.scaling.apply(data, self.range)
        return rgb, self.valid(y0, y1, x0, x1)

    def valid(self, y0: int, y1: int, x0: int = 0,
              x1: Optional[int] = None) -> np.ndarray:
        """Validity (not nodata) of a window of the model grid.

        Args:
            y0, y1 (int): Rows.
            x0 (int): First column. Defaults to 0.
            x1 (int, optional): End column. Defaults to None (the width).

        Returns:
            np.ndarray: (h, w) bool.
        """
        x1 = self.width if x1 is None else x1
        from rasterio.enums import Resampling
        window = self._scene_window(y0, y1, x0, x1)
        if self.resampled:
            mask = self.dataset.dataset_mask(
                window=window, out_shape=(y1 - y0, x1 - x0),
                resampling=Resampling.nearest)
        else:
            mask = self.dataset.dataset_mask(window=window)
        return mask > 0

    def scene_valid(self, y0: int, y1: int) -> np.ndarray:
        """Validity of full-width rows [y0, y1) of the scene's own grid."""
        from rasterio.windows import Window
        return self.dataset.dataset_mask(
            window=Window(0, y0, self.scene_width, y1 - y0)) > 0

    def thumbnail(self, max_side: int = 1024
                  ) -> Tuple[np.ndarray, np.ndarray]:
        """A decimated RGB view of the whole scene (for overviews).

        Args:
            max_side (int): Longest side in pixels. Defaults to 1024.

        Returns:
            tuple[np.ndarray, np.ndarray]: (h, w, 3) uint8 RGB and its
            (h, w) bool validity.
        """
        from rasterio.enums import Resampling
        ds = self.dataset
        factor = max(1., max(ds.height, ds.width) / max_side)
        shape = (max(1, int(round(ds.height / factor))),
                 max(1, int(round(ds.width / factor))))
        data = ds.read(self.indexes, out_shape=(3, ) + shape,
                       resampling=Resampling.average
                       if factor > 1 else Resampling.nearest)
        valid = ds.dataset_mask(out_shape=shape,
                                resampling=Resampling.nearest) > 0
        return self.scaling.apply(data, self.range), valid

    def close(self) -> None:
        """Close the file."""
        self.dataset.close()

    def __enter__(self) -> 'SceneSource':
        return self

    def __exit__(self, *args) -> None:
        self.close()
