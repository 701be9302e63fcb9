"""Load remote sensing images (any dtype, any band count) explicitly."""
import os.path as osp
import warnings
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmrrsis.registry import TRANSFORMS

from ..band_scaling import BandScaling, BandScalingError

#: Lossy formats decoded by mmcv, as ``LoadImageFromFile`` does (GDAL's
#: and OpenCV's JPEG decoders do not give the same pixel values).
MMCV_DECODED = ('.jpg', '.jpeg', '.jpe')


def _rasterio():
    try:
        import rasterio
    except ImportError as e:  # pragma: no cover - rasterio is required
        raise ImportError(
            'Reading remote sensing images needs rasterio: pip install '
            '-r requirements/geo.txt (or pip install "mmrrsis[geo]")') from e
    return rasterio


def _has_colormap(dataset) -> bool:
    try:
        return bool(dataset.colormap(1))
    except ValueError:
        return False


def read_raster_bytes(data: bytes, scaling: BandScaling,
                      source: str) -> Tuple[np.ndarray, np.ndarray]:
    """Decode a raster file's bytes with rasterio and make it 8-bit RGB.

    Args:
        data (bytes): The file's content.
        scaling (BandScaling): Band selection and scaling; percentiles are
            taken over this image's valid pixels.
        source (str): The file, named in error messages.

    Returns:
        tuple[np.ndarray, np.ndarray]: The (H, W, 3) uint8 RGB image and
        its (H, W) bool validity mask (False at nodata).

    Raises:
        ValueError: Not a raster file, or a corrupt one.
        BandScalingError: Not 8-bit RGB and no scaling configured, or
            bands the file does not have.
    """
    rasterio = _rasterio()
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            with rasterio.MemoryFile(data) as memfile, \
                    memfile.open() as dataset:
                if dataset.count == 1 and _has_colormap(dataset):
                    raise BandScalingError(
                        f'{source} is a paletted image; convert it to RGB '
                        'first (its band holds colour indices, not values)')
                scaling.check(dataset.dtypes[0], dataset.count, source)
                array = dataset.read(scaling.indexes(dataset.count, source))
                valid = dataset.dataset_mask() > 0
    except RasterioIOError as e:
        raise ValueError(f'Cannot read the image {source}: not a raster '
                         f'file, or a corrupt one ({e})') from e
    rng = scaling.fit(array, valid, source)
    return scaling.apply(array, rng), valid


@TRANSFORMS.register_module()
class LoadRSImageFromFile(BaseTransform):
    """Load an image of any dtype and band count as 8-bit BGR, explicitly.

    A drop-in for mmcv's ``LoadImageFromFile`` that reads remote sensing
    images with rasterio (GeoTIFF, uint16, 4+ bands) and makes the
    conversion to the model's 8-bit domain a setting, not an accident:

    - an 8-bit RGB image without settings gives exactly what
      ``LoadImageFromFile`` gives (BGR, same values; JPEGs are decoded by
      mmcv as there, since GDAL's JPEG decoder rounds differently);
    - ``bands=(3, 2, 1)`` selects the bands that become R, G and B
      (1-based);
    - ``scale='percentile'`` stretches each selected band linearly from its
      ``percentiles`` (2 and 98 by default), computed **per image** over
      its valid (non-nodata) pixels, to 0-255; ``scale='minmax'`` uses the
      fixed ``min_value`` / ``max_value`` instead (the same for every
      image);
    - any other image (uint16, float, 4 bands, grey) without the settings
      it needs raises a ``BandScalingError`` naming the file, its dtype and
      band count.

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
        imdecode_backend (str): mmcv backend for JPEGs. Defaults to 'cv2'.
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

    def _mmcv_decodes(self, path: str) -> bool:
        plain = self.scaling.scale is None and self.scaling.bands in (
            None, (1, 2, 3))
        return plain and osp.splitext(path)[1].lower() in MMCV_DECODED

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
        if self._mmcv_decodes(path):
            img = mmcv.imfrombytes(
                data, flag='unchanged', backend=self.imdecode_backend)
            if img is None:
                raise ValueError(f'Cannot read the image {path}: corrupt or '
                                 'not an image file')
            if img.ndim != 3 or img.shape[2] != 3:
                count = 1 if img.ndim == 2 else img.shape[2]
                self.scaling.indexes(count, path)  # raises with the fix
            return mmcv.imfrombytes(
                data, flag='color', backend=self.imdecode_backend)
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
