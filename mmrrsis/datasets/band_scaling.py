"""Band selection and scaling of raster images to the model's 8-bit RGB.

Aerial and satellite images are often uint16 (11 or 12 bits used) with four
or more bands (e.g. blue, green, red, near infrared), while the models take
8-bit RGB. Turning one into the other is a choice, so it is made explicit
here and shared by every reader: the dataset transform
:class:`~mmrrsis.datasets.transforms.LoadRSImageFromFile` (one image at a
time) and the scene inference of :mod:`mmrrsis.apis.scene` (windows of a
large scene).

- ``bands``: which bands become R, G and B (1-based, as GDAL and rasterio
  count them), e.g. ``(3, 2, 1)`` for blue-green-red-NIR data;
- ``scale='percentile'``: per band, the ``percentiles`` (2 and 98 by
  default) of the valid pixels map to 0 and 255 (a linear stretch, values
  outside are clipped). Where the percentiles come from is the caller's
  choice: the dataset transform computes them per image, the scene
  inference once on a decimated read of the whole scene;
- ``scale='minmax'``: fixed ``min_value`` / ``max_value`` (one value, or
  one per selected band) map to 0 and 255.

An image that is not 8-bit with three selected bands and has no scaling
raises :class:`BandScalingError` naming the file, its dtype and its band
count, so a uint16 image is never read as uint8 values and a fourth band is
never dropped without being asked.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

#: The scaling modes (None: the image must be 8-bit RGB already).
SCALE_MODES = ('percentile', 'minmax')
#: The keys of a scaling dict: the arguments of :class:`BandScaling` (and
#: of ``LoadRSImageFromFile``).
SCALING_KEYS = ('bands', 'scale', 'percentiles', 'min_value', 'max_value')

Number = Union[int, float]


class BandScalingError(ValueError):
    """An image cannot become 8-bit RGB with the configured settings."""


@dataclass(frozen=True)
class ScalingRange:
    """The values that map to 0 and 255, per selected band.

    Attributes:
        low (tuple[float]): Value mapped to 0, one per output band (R, G,
            B).
        high (tuple[float]): Value mapped to 255, one per output band.
    """
    low: Tuple[float, ...]
    high: Tuple[float, ...]

    def to_dict(self) -> dict:
        """``{'low': [...], 'high': [...]}`` (for JSON summaries)."""
        return dict(low=list(self.low), high=list(self.high))


def _per_band(value: Union[Number, Sequence[Number]], num: int,
              name: str) -> Tuple[float, ...]:
    if np.isscalar(value):
        return (float(value), ) * num
    values = tuple(float(v) for v in value)
    if len(values) != num:
        raise BandScalingError(f'{name} needs one value or one per selected '
                               f'band ({num}), got {len(values)}')
    return values


class BandScaling:
    """Select three bands of a raster and scale them to uint8 RGB.

    Args:
        bands (Sequence[int], optional): 1-based indices of the bands that
            become R, G and B, e.g. ``(3, 2, 1)``. Defaults to None (the
            image's own bands, which must then be three).
        scale (str, optional): ``'percentile'``, ``'minmax'`` or None (no
            scaling: the image must be uint8). Defaults to None.
        percentiles (tuple[float, float]): Low and high percentile of the
            ``'percentile'`` stretch. Defaults to (2., 98.).
        min_value (float | Sequence[float], optional): Value mapped to 0
            by ``'minmax'``, one or one per selected band. Defaults to None.
        max_value (float | Sequence[float], optional): Value mapped to 255
            by ``'minmax'``. Defaults to None.

    Example::

        >>> scaling = BandScaling(bands=(3, 2, 1), scale='percentile')
        >>> data = dataset.read(scaling.indexes(dataset.count, path))
        >>> rng = scaling.fit(data, valid)          # per-band 2% / 98%
        >>> rgb = scaling.apply(data, rng)          # (H, W, 3) uint8
    """

    def __init__(self,
                 bands: Optional[Sequence[int]] = None,
                 scale: Optional[str] = None,
                 percentiles: Tuple[float, float] = (2., 98.),
                 min_value: Union[Number, Sequence[Number], None] = None,
                 max_value: Union[Number, Sequence[Number], None] = None
                 ) -> None:
        if bands is not None:
            bands = tuple(int(b) for b in bands)
            if len(bands) != 3 or min(bands) < 1:
                raise BandScalingError(
                    'bands must be three 1-based band indices (R, G, B), '
                    f'e.g. (3, 2, 1); got {bands}')
        if scale is not None and scale not in SCALE_MODES:
            raise BandScalingError(f'scale must be one of {SCALE_MODES} or '
                                   f'None, got {scale!r}')
        low_p, high_p = (float(p) for p in percentiles)
        if not 0 <= low_p < high_p <= 100:
            raise BandScalingError('percentiles must be (low, high) with 0 <= '
                                   f'low < high <= 100, got {percentiles}')
        if scale == 'minmax' and (min_value is None or max_value is None):
            raise BandScalingError("scale='minmax' needs min_value and "
                                   'max_value')
        if scale != 'minmax' and (min_value is not None
                                  or max_value is not None):
            raise BandScalingError("min_value / max_value need scale="
                                   f"'minmax' (got scale={scale!r})")
        self.bands = bands
        self.scale = scale
        self.percentiles = (low_p, high_p)
        self.min_value = min_value
        self.max_value = max_value
        if scale == 'minmax':
            low = _per_band(min_value, 3, 'min_value')
            high = _per_band(max_value, 3, 'max_value')
            if any(h <= lo for lo, h in zip(low, high)):
                raise BandScalingError('max_value must be larger than '
                                       f'min_value, got {low} and {high}')

    @classmethod
    def from_value(cls, value) -> Optional['BandScaling']:
        """The one spelling of a ``scaling`` argument.

        Args:
            value (BandScaling | dict | None): A :class:`BandScaling`, or
                its dict (keys of :data:`SCALING_KEYS`; missing keys take
                their defaults, ``{}`` is no scaling), or None.

        Returns:
            BandScaling | None: None for None.

        Raises:
            TypeError: Anything else.
            BandScalingError: Unknown keys or inconsistent settings.
        """
        if value is None or isinstance(value, BandScaling):
            return value
        if not isinstance(value, dict):
            raise TypeError('scaling must be a BandScaling or a dict of '
                            f'{", ".join(SCALING_KEYS)}, got '
                            f'{type(value).__name__}')
        unknown = sorted(set(value) - set(SCALING_KEYS))
        if unknown:
            raise BandScalingError(
                f'Unknown scaling key(s) {unknown}; a scaling takes '
                f'{", ".join(SCALING_KEYS)} (the arguments of '
                'LoadRSImageFromFile)')
        return cls(**value)

    @property
    def is_identity(self) -> bool:
        """No band selection and no scaling: 8-bit RGB as it is."""
        return self.bands is None and self.scale is None

    # ---------------------------------------------------------- checking
    def indexes(self, count: int, source: str = 'the image') -> Tuple[int]:
        """The 1-based bands to read, checked against the band count.

        Args:
            count (int): Bands in the image.
            source (str): Named in error messages. Defaults to
                'the image'.

        Returns:
            tuple[int]: Three 1-based band indices.

        Raises:
            BandScalingError: A band beyond ``count``, or no ``bands``
                given for an image that does not have exactly three.
        """
        if self.bands is None:
            if count != 3:
                raise BandScalingError(
                    f'{source} has {count} band(s); the model takes three '
                    '(R, G, B). Select them explicitly with bands=(r, g, b) '
                    '(1-based; e.g. (3, 2, 1) for blue, green, red, NIR '
                    'data, (1, 1, 1) for a grey image).')
            return (1, 2, 3)
        if max(self.bands) > count:
            raise BandScalingError(f'{source} has {count} band(s), but bands='
                                   f'{self.bands} asks for band '
                                   f'{max(self.bands)}')
        return self.bands

    def check(self, dtype, count: int, source: str = 'the image') -> None:
        """Raise unless the image can be used with these settings.

        Without ``scale``, only uint8 data is taken (an 8-bit image is
        used as it is); any other dtype needs an explicit scaling.

        Args:
            dtype (np.dtype | str): The image's data type.
            count (int): Its number of bands.
            source (str): Named in the message (the file). Defaults to
                'the image'.

        Raises:
            BandScalingError: With the file, dtype, band count and the fix.
        """
        dtype = np.dtype(dtype)
        if self.scale is None and dtype != np.uint8:
            hint = ' bands=(3, 2, 1),' if count > 3 else ''
            raise BandScalingError(
                f'{source} is {dtype.name} with {count} band(s), not 8-bit '
                'RGB, and no scaling is configured, so its values cannot be '
                'fed to the model as they are. Set' + hint +
                " scale='percentile' (percentiles (2, 98) by default) or "
                "scale='minmax' with min_value / max_value (e.g. 0 and 4095 "
                'for 12-bit data).')
        self.indexes(count, source)

    # ------------------------------------------------------------ scaling
    def fit(self,
            data: np.ndarray,
            valid: Optional[np.ndarray] = None,
            source: str = 'the image') -> Optional[ScalingRange]:
        """The scaling range of ``data`` (the selected bands).

        Args:
            data (np.ndarray): (3, H, W) selected bands, any dtype.
            valid (np.ndarray, optional): (H, W) bool, the pixels that are
                not nodata; only they enter the percentiles. Defaults to
                None (all pixels).
            source (str): Named in error messages. Defaults to 'the image'.

        Returns:
            ScalingRange | None: Per-band low and high values; None when
            no scaling is configured.

        Raises:
            BandScalingError: No valid pixel to take percentiles of.
        """
        if self.scale is None:
            return None
        num = data.shape[0]
        if self.scale == 'minmax':
            return ScalingRange(
                _per_band(self.min_value, num, 'min_value'),
                _per_band(self.max_value, num, 'max_value'))
        low, high = [], []
        for band in data:
            values = band[valid] if valid is not None else band.ravel()
            values = values[np.isfinite(values)] if values.dtype.kind == 'f' \
                else values
            if values.size == 0:
                raise BandScalingError(
                    f'{source} has no valid (non-nodata) pixel to compute '
                    f'the {self.percentiles} percentiles from')
            lo, hi = np.percentile(values, self.percentiles)
            low.append(float(lo))
            high.append(float(hi))
        return ScalingRange(tuple(low), tuple(high))

    def apply(self, data: np.ndarray,
              rng: Optional[ScalingRange] = None) -> np.ndarray:
        """Map the selected bands to uint8 RGB.

        ``out = clip(rint((x - low) / (high - low) * 255), 0, 255)`` per
        band; a band whose ``high <= low`` (constant) maps to 0 at or below
        ``low`` and 255 above it.

        Args:
            data (np.ndarray): (3, H, W) selected bands, any dtype.
            rng (ScalingRange, optional): From :meth:`fit`. Required when a
                scaling is configured. Defaults to None.

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB image.
        """
        if self.scale is None:
            if data.dtype != np.uint8:
                raise BandScalingError(
                    f'{data.dtype.name} data needs a scaling (scale=...)')
            return np.ascontiguousarray(data.transpose(1, 2, 0))
        if rng is None:
            raise BandScalingError('apply() needs the range from fit() when '
                                   'a scaling is configured')
        out = np.empty(data.shape[1:] + (data.shape[0], ), np.uint8)
        for i, band in enumerate(data):
            lo, hi = rng.low[i], rng.high[i]
            x = band.astype(np.float32)
            if hi > lo:
                x = np.rint((x - np.float32(lo)) / np.float32(hi - lo) *
                            np.float32(255.))
            else:
                x = np.where(x > lo, np.float32(255.), np.float32(0.))
            out[..., i] = np.clip(np.nan_to_num(x, nan=0.), 0, 255)
        return out

    def select(self, data: np.ndarray,
               source: str = 'the image') -> np.ndarray:
        """Check an image's bands and keep the selected three.

        Args:
            data (np.ndarray): (bands, H, W), any dtype.
            source (str): Named in error messages. Defaults to 'the image'.

        Returns:
            np.ndarray: (3, H, W), the bands that become R, G, B.

        Raises:
            BandScalingError: See :meth:`check`.
        """
        self.check(data.dtype, data.shape[0], source)
        return data[[b - 1 for b in self.indexes(data.shape[0], source)]]

    def to_rgb(self,
               data: np.ndarray,
               valid: Optional[np.ndarray] = None,
               source: str = 'the image') -> np.ndarray:
        """Selected bands -> uint8 RGB, the range fitted on this image.

        Args:
            data (np.ndarray): (3, H, W) selected bands (:meth:`select`).
            valid (np.ndarray, optional): (H, W) bool, not nodata.
                Defaults to None (all pixels).
            source (str): Named in error messages. Defaults to 'the image'.

        Returns:
            np.ndarray: (H, W, 3) uint8 RGB.
        """
        return self.apply(data, self.fit(data, valid, source))

    def to_dict(self) -> dict:
        """The settings (for JSON summaries and resume checks)."""
        return dict(
            bands=list(self.bands) if self.bands else None,
            scale=self.scale,
            percentiles=list(self.percentiles),
            min_value=self.min_value,
            max_value=self.max_value)

    def __repr__(self) -> str:
        extra = ''
        if self.scale == 'percentile':
            extra = f', percentiles={self.percentiles}'
        elif self.scale == 'minmax':
            extra = (f', min_value={self.min_value}, '
                     f'max_value={self.max_value}')
        return (f'{type(self).__name__}(bands={self.bands}, '
                f'scale={self.scale!r}{extra})')
