"""Load remote sensing images (any dtype, any band count) explicitly."""
import io
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmrrsis.registry import TRANSFORMS
from mmrrsis.utils.optional_deps import import_rasterio

from ..band_scaling import BandScaling, BandScalingError
from ..raster_io import (
    MAX_READ_PIXELS,
    RasterSizeError,
    check_tiff_bytes,
    open_raster_bytes,
)

#: Formats whose 8-bit RGB files take the fast path (decoded by mmcv).
FAST_FORMATS = ('JPEG', 'PNG', 'TIFF', 'BMP', 'WEBP')


def header_kind(data: bytes) -> Tuple[bool, str]:
    """Whether a file is 8-bit RGB, from its header (no pixel decoded).

    Pillow opens the file lazily: only the header is parsed. 16-bit PNG and
    TIFF files, which Pillow also reports as mode 'RGB', are told apart by
    their raw mode and bits per sample.

    Args:
        data (bytes): The file's content.

    Returns:
        tuple[bool, str]: Whether it is an 8-bit RGB file of
        :data:`FAST_FORMATS`, and what it is ('PNG RGB', 'TIFF RGBA',
        'a file Pillow cannot read', ...) for messages.
    """
    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # damaged EXIF blocks
            with Image.open(io.BytesIO(data)) as img:
                kind = f'{img.format} {img.mode}'
                if img.format not in FAST_FORMATS or img.mode != 'RGB':
                    return False, kind
                if img.format == 'PNG':  # raw mode 'RGB', not 'RGB;16B'
                    return img.tile[0][3] == 'RGB', kind
                if img.format == 'TIFF':
                    tags = img.tag_v2
                    bits = tuple(tags.get(258, ()))
                    sample_format = tuple(tags.get(339, (1, 1, 1)))
                    return (bits == (8, 8, 8)
                            and set(sample_format) == {1}), kind
                return True, kind
    except (UnidentifiedImageError, OSError, ValueError, IndexError,
            AttributeError, Image.DecompressionBombError):
        return False, 'a file Pillow cannot read (e.g. a uint16 or '\
            'multi-band raster)'


def _has_colormap(dataset) -> bool:
    try:
        return bool(dataset.colormap(1))
    except ValueError:
        return False


def read_raster_bytes(data: bytes, scaling: BandScaling, source: str,
                      max_pixels: Optional[int] = MAX_READ_PIXELS
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """Decode a raster file's bytes with rasterio and make it 8-bit RGB.

    The bytes go through the raster opener
    (:func:`~mmrrsis.datasets.raster_io.open_raster_bytes`): GeoTIFF,
    PNG, JPEG or JPEG 2000 by content (never a VRT), decode errors raised.

    Args:
        data (bytes): The file's content.
        scaling (BandScaling): Band selection and scaling; percentiles are
            taken over this image's valid pixels.
        source (str): The file, named in error messages.
        max_pixels (int, optional): Most pixels the image may have (one
            read); None: no limit. Defaults to
            :data:`~mmrrsis.datasets.raster_io.MAX_READ_PIXELS`.

    Returns:
        tuple[np.ndarray, np.ndarray]: The (H, W, 3) uint8 RGB image and
        its (H, W) bool validity mask (False at nodata).

    Raises:
        RasterError: (a ValueError) Not a raster file mmrrsis opens, a
            damaged one, or one above ``max_pixels``.
        BandScalingError: Not 8-bit RGB and no scaling configured, or
            bands the file does not have.
    """
    import_rasterio(f'Reading {source}')
    with open_raster_bytes(data, source, max_read_pixels=max_pixels) \
            as dataset:
        if dataset.count == 1 and _has_colormap(dataset):
            raise BandScalingError(
                f'{source} is a paletted image; convert it to RGB '
                'first (its band holds colour indices, not values)')
        scaling.check(dataset.dtypes[0], dataset.count, source)
        array = dataset.read(scaling.indexes(dataset.count, source))
        valid = dataset.dataset_mask() > 0
    return scaling.to_rgb(array, valid, source), valid


def check_fast_path(data: bytes, source: str,
                    max_pixels: Optional[int] = MAX_READ_PIXELS) -> None:
    """What the raster opener checks, for a file decoded without GDAL:
    the size rule (one read) and the DEFLATE checksums of a TIFF.

    Raises:
        RasterSizeError: More pixels than ``max_pixels``.
        RasterDecodeError: A damaged or truncated DEFLATE block.
    """
    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if max_pixels is not None and width * height > max_pixels:
                raise RasterSizeError(
                    f'Refusing to read the image {source}: {width} x '
                    f'{height} = {width * height:,} pixels is above the '
                    f'limit of {max_pixels:,} pixels a single read may hold '
                    '(the size rule, see the README: "Security and '
                    'limits").', width * height, max_pixels)
            check_tiff_bytes(data, source, img)


@TRANSFORMS.register_module()
class LoadRSImageFromFile(BaseTransform):
    """Load an image of any dtype and band count as 8-bit BGR, explicitly.

    A drop-in for mmcv's ``LoadImageFromFile`` that reads remote sensing
    images with rasterio (GeoTIFF, uint16, 4+ bands) and makes the
    conversion to the model's 8-bit domain a setting, not an accident:

    - an 8-bit RGB file (JPEG, PNG, TIFF, BMP, WebP) without settings takes
      a fast path: its header is looked at (Pillow, no pixel decoded) and
      it is decoded once by mmcv exactly as ``LoadImageFromFile`` decodes
      it (BGR, same values, about the same time). It needs no rasterio;
    - ``bands=(3, 2, 1)`` selects the bands that become R, G and B
      (1-based);
    - ``scale='percentile'`` stretches each selected band linearly from its
      ``percentiles`` (2 and 98 by default), computed **per image** over
      its valid (non-nodata) pixels, to 0-255; ``scale='minmax'`` uses the
      fixed ``min_value`` / ``max_value`` instead (the same for every
      image);
    - every other image, and every image when settings are given, is read
      with rasterio (the ``geo`` extra; without it, such an image raises
      an ImportError naming the file and ``pip install "mmrrsis[geo]"``);
      an image that is not 8-bit RGB (uint16, float, 4 bands, grey,
      paletted) without the settings it needs raises a
      ``BandScalingError`` naming the file, its dtype and band count.

    For uint16 or multi-band data, set the settings in the config's
    pipelines, e.g. ``dict(type='LoadRSImageFromFile', bands=(3, 2, 1),
    scale='percentile')`` or ``scale='minmax', min_value=0,
    max_value=4095`` for 12-bit data.

    Required Keys:

    - img_path

    Modified Keys:

    - img (np.ndarray): (H, W, 3) uint8 BGR (float32 with
      ``to_float32``)
    - img_shape (tuple[int, int]): (H, W)
    - ori_shape (tuple[int, int]): (H, W)

    Args:
        bands (Sequence[int], optional): 1-based R, G, B band indices.
            Defaults to None (the image's three bands).
        scale (str, optional): ``'percentile'``, ``'minmax'`` or None.
            Defaults to None.
        percentiles (tuple[float, float]): Of the percentile stretch.
            Defaults to (2., 98.).
        min_value (float | Sequence[float], optional): ``'minmax'`` low
            value(s). Defaults to None.
        max_value (float | Sequence[float], optional): ``'minmax'`` high
            value(s). Defaults to None.
        to_float32 (bool): Return a float32 image. Defaults to False.
        imdecode_backend (str): mmcv decoding backend of the fast path.
            Defaults to 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
    """

    def __init__(self,
                 bands: Optional[Sequence[int]] = None,
                 scale: Optional[str] = None,
                 percentiles: Tuple[float, float] = (2., 98.),
                 min_value: Union[float, Sequence[float], None] = None,
                 max_value: Union[float, Sequence[float], None] = None,
                 to_float32: bool = False,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        self.scaling = BandScaling(bands, scale, percentiles, min_value,
                                   max_value)
        self.to_float32 = to_float32
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    @property
    def plain(self) -> bool:
        """Whether no band selection or scaling is asked for."""
        return self.scaling.scale is None and self.scaling.bands in (
            None, (1, 2, 3))

    def _read(self, path: str) -> np.ndarray:
        if osp.isdir(path):
            raise IsADirectoryError(
                f'{path} is a directory, not an image file')
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError:
            raise FileNotFoundError(f'Image file not found: {path}') from None
        if not data:
            raise ValueError(f'Cannot read the image {path}: the file is '
                             'empty (0 bytes)')
        kind = None
        if self.plain:
            rgb8, kind = header_kind(data)
            if rgb8:
                check_fast_path(data, path)
                img = mmcv.imfrombytes(
                    data, flag='color', backend=self.imdecode_backend)
                if img is not None:
                    return img
                # e.g. a ZSTD-compressed GeoTIFF, which GDAL decodes
                kind = f'{kind}, which OpenCV cannot decode (corrupt, or ' \
                    'a compression it lacks)'
        try:
            import_rasterio()
        except ImportError as e:
            what = f'{kind}, not 8-bit RGB' if kind else \
                'asked to select bands or scale'
            raise ImportError(
                f'Cannot read the image {path} ({what}): reading it needs '
                'rasterio, which is not installed: pip install '
                '"mmrrsis[geo]" (or -r requirements/geo.txt)') from e
        rgb, _ = read_raster_bytes(data, self.scaling, path)
        return np.ascontiguousarray(rgb[..., ::-1])

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']``.

        Args:
            results (dict): With ``img_path``.

        Returns:
            dict: With ``img`` (H, W, 3) BGR, ``img_shape``, ``ori_shape``.
        """
        path = str(results['img_path'])
        try:
            img = self._read(path)
        except BandScalingError as e:
            raise BandScalingError(f'{e} (LoadRSImageFromFile)') from None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        s = self.scaling
        return (f'{type(self).__name__}(bands={s.bands}, scale={s.scale!r}, '
                f'percentiles={s.percentiles}, min_value={s.min_value}, '
                f'max_value={s.max_value}, to_float32={self.to_float32}, '
                f"imdecode_backend='{self.imdecode_backend}', "
                f'backend_args={self.backend_args})')
