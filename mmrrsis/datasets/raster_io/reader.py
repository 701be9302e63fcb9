"""The door: GDAL opened on an allowed file with the options that stop side
files and network access, and reads whose errors and warnings are raised
naming the file, band and window."""
import contextlib
import logging
import math
import os
import re
import threading
from typing import Iterator, List, Optional, Sequence, Tuple

from mmrrsis.utils.optional_deps import import_rasterio

from .errors import RasterDecodeError, RasterSizeError
from .formats import (
    VRT,
    allowed_formats,
    check_local_path,
    check_vrt,
    read_head,
    refuse_format,
    sniff_format,
)
from .integrity import check_deflate_block
from .size_rule import MAX_READ_PIXELS

#: GDAL configuration of every open and read of a user's raster.
GDAL_OPTIONS = dict(
    # no directory listing: GDAL takes the folder as empty, so no sidecar
    # (.ovr overviews, .aux.xml, .msk masks, world files, .IMD/.RPB) is
    # ever opened next to the file
    GDAL_DISABLE_READDIR_ON_OPEN='EMPTY_DIR',
    # no persistent auxiliary metadata (.aux.xml) read or written
    GDAL_PAM_ENABLED='NO',
    # VRT pixel functions in Python never run
    GDAL_VRT_ENABLE_PYTHON='NO',
    # no network: the curl-based file systems (/vsicurl/, /vsis3/, ...)
    # accept only this one name, which no URL can be
    CPL_VSIL_CURL_ALLOWED_FILENAME='/mmrrsis/network-access-is-off',
    CPL_VSIL_CURL_ALLOWED_EXTENSIONS='.mmrrsis-network-access-is-off',
    GDAL_HTTP_MAX_RETRY='0',
    GDAL_HTTP_TIMEOUT='1',
    GDAL_HTTP_CONNECTTIMEOUT='1',
    # decode errors are errors
    GTIFF_IGNORE_READ_ERRORS='NO',
    GDAL_ERROR_ON_LIBJPEG_WARNING='YES',
)

_BLOCK = re.compile(r'band (\d+): IReadBlock failed at X offset (\d+), '
                    r'Y offset (\d+)')
#: GDAL warnings of a read that say nothing about the pixels.
_HARMLESS_WARNINGS = ('iCCP', )


def gdal_env(**extra):
    """``rasterio.Env`` with :data:`GDAL_OPTIONS` (and ``extra``)."""
    rasterio = import_rasterio('Reading rasters')
    return rasterio.Env(**dict(GDAL_OPTIONS, **extra))


def open_raster(path: str,
                allow_vrt: bool = False,
                what: str = 'raster',
                max_read_pixels: Optional[int] = MAX_READ_PIXELS
                ) -> 'RasterFile':
    """Open a user's raster file through the allowlist.

    Args:
        path (str): A local file.
        allow_vrt (bool): Open a VRT mosaic (checked by
            :func:`check_vrt`). Defaults to False.
        what (str): What the file is, for messages ('scene', 'image',
            ...). Defaults to 'raster'.
        max_read_pixels (int, optional): Most pixels one read may hold;
            None: no limit. Defaults to :data:`MAX_READ_PIXELS`.

    Returns:
        RasterFile: The open raster (close it, or use ``with``).

    Raises:
        UnsupportedRasterError: A path or a format that is refused.
        RasterDecodeError: GDAL cannot read the header.
        FileNotFoundError, IsADirectoryError: No file there.
    """
    name = os.fspath(path)
    path = check_local_path(name, what)
    found = sniff_format(read_head(path))
    formats = allowed_formats(allow_vrt)
    if found not in formats:
        refuse_format(name, found, allow_vrt, what)
    if found == VRT:
        check_vrt(path)
    rasterio = import_rasterio('Reading rasters')
    with gdal_env(), _quiet_georeferencing():
        try:
            dataset = rasterio.open(path, driver=formats[found])
        except rasterio.errors.RasterioIOError as e:
            raise RasterDecodeError(
                f'Cannot read the {what} {name}: a {found} file whose '
                'header GDAL cannot read, damaged or truncated? '
                f'({_first_gdal(e)})') from None
    return RasterFile(dataset, name, found, path=path, what=what,
                      max_read_pixels=max_read_pixels)


def open_raster_bytes(data: bytes,
                      source: str,
                      what: str = 'image',
                      max_read_pixels: Optional[int] = MAX_READ_PIXELS
                      ) -> 'RasterFile':
    """Open a raster file's content through the allowlist (never a VRT).

    Args:
        data (bytes): The file's content.
        source (str): The file, named in messages.
        what (str): What the file is, for messages. Defaults to 'image'.
        max_read_pixels (int, optional): See :func:`open_raster`.

    Returns:
        RasterFile: The open raster (close it, or use ``with``).

    Raises:
        UnsupportedRasterError: A format that is refused.
        RasterDecodeError: GDAL cannot read the header.
    """
    found = sniff_format(data[:4096])
    formats = allowed_formats()
    if found not in formats:
        refuse_format(source, found, False, what)
    rasterio = import_rasterio(f'Reading {source}')
    memfile = rasterio.MemoryFile(data)
    with gdal_env(), _quiet_georeferencing():
        try:
            dataset = memfile.open(driver=formats[found])
        except rasterio.errors.RasterioIOError as e:
            memfile.close()
            raise RasterDecodeError(
                f'Cannot read the {what} {source}: a {found} file whose '
                'header GDAL cannot read, damaged or truncated? '
                f'({_first_gdal(e)})') from None
    return RasterFile(dataset, source, found, data=data, memfile=memfile,
                      what=what, max_read_pixels=max_read_pixels)


@contextlib.contextmanager
def _quiet_georeferencing():
    import warnings

    from rasterio.errors import NotGeoreferencedWarning
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        yield


class _ThreadWarnings(logging.Handler):
    """GDAL warnings logged by rasterio in this thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            message = record.getMessage()
            if not any(h in message for h in _HARMLESS_WARNINGS):
                self.messages.append(message)


#: Where rasterio logs GDAL's warnings (during reads; elsewhere).
_GDAL_LOGGERS = ('rasterio._err', 'rasterio._env')


@contextlib.contextmanager
def gdal_warnings() -> Iterator[List[str]]:
    """Collect the GDAL warnings of this thread (rasterio logs them on
    ``rasterio._err`` and ``rasterio._env``), e.g. to raise them as
    errors."""
    handler = _ThreadWarnings()
    for name in _GDAL_LOGGERS:
        logging.getLogger(name).addHandler(handler)
    try:
        yield handler.messages
    finally:
        for name in _GDAL_LOGGERS:
            logging.getLogger(name).removeHandler(handler)


def _gdal_messages(error: BaseException) -> List[str]:
    """GDAL's messages along an exception's chain, outermost first."""
    messages, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error)
        if text and 'See previous exception' not in text:
            messages.append(text)
        error = error.__cause__ or error.__context__
    return messages


def _first_gdal(error: BaseException) -> str:
    messages = _gdal_messages(error)
    return messages[-1] if messages else type(error).__name__


def _span(start: float, stop: float) -> str:
    return f'{int(math.floor(start))}-{int(math.ceil(stop)) - 1}'


class RasterFile:
    """An open raster whose reads are checked.

    Attributes of the rasterio dataset (``height``, ``width``, ``count``,
    ``dtypes``, ``crs``, ``transform``, ``colorinterp``, ...) are
    available as its own. :meth:`read` and :meth:`dataset_mask` run under
    :data:`GDAL_OPTIONS`, refuse reads above ``max_read_pixels``, check
    DEFLATE TIFF blocks against their checksum and raise
    :class:`RasterDecodeError` on any GDAL error or warning.

    Args:
        dataset: The open rasterio dataset.
        name (str): The file as the user named it (for messages).
        found (str): Its format (:func:`sniff_format`).
        path (str, optional): Absolute path of the file.
        data (bytes, optional): Its content (opened from memory).
        memfile (optional): The rasterio ``MemoryFile`` to close.
        what (str): What the file is, for messages. Defaults to 'raster'.
        max_read_pixels (int, optional): See :func:`open_raster`.
    """

    def __init__(self, dataset, name: str, found: str,
                 path: Optional[str] = None, data: Optional[bytes] = None,
                 memfile=None, what: str = 'raster',
                 max_read_pixels: Optional[int] = MAX_READ_PIXELS) -> None:
        self.dataset = dataset
        self.name = name
        self.what = what
        self.format = found
        self.path = path
        self._data = data
        self._memfile = memfile
        self.max_read_pixels = max_read_pixels
        self._checked: set = set()
        self._deflate = (dataset.driver == 'GTiff' and str(
            dataset.tags(ns='IMAGE_STRUCTURE').get('COMPRESSION',
                                                   '')).upper() == 'DEFLATE')

    def __getattr__(self, name: str):
        if name == 'dataset':
            raise AttributeError(name)
        return getattr(self.dataset, name)

    # ------------------------------------------------------------ reads --
    def read(self, indexes=None, window=None, out_shape=None, **kwargs):
        """``dataset.read`` (same arguments), checked.

        Raises:
            RasterSizeError: Above ``max_read_pixels``.
            RasterDecodeError: A block that cannot be decoded.
        """
        return self._checked_read('read', indexes, window, out_shape,
                                  **kwargs)

    def dataset_mask(self, window=None, out_shape=None, **kwargs):
        """``dataset.dataset_mask`` (same arguments), checked."""
        return self._checked_read('dataset_mask', None, window, out_shape,
                                  **kwargs)

    def _window_box(self, window) -> Tuple[float, float, float, float]:
        if window is None:
            return 0., float(self.dataset.height), 0., float(
                self.dataset.width)
        if isinstance(window, tuple):  # ((row0, row1), (col0, col1))
            (r0, r1), (c0, c1) = window
            return float(r0), float(r1), float(c0), float(c1)
        return (float(window.row_off), float(window.row_off + window.height),
                float(window.col_off), float(window.col_off + window.width))

    def _bands(self, indexes) -> List[int]:
        if indexes is None:
            return list(range(1, self.dataset.count + 1))
        if isinstance(indexes, int):
            return [indexes]
        return [int(i) for i in indexes]

    def _checked_read(self, method: str, indexes, window, out_shape,
                      **kwargs):
        rasterio = import_rasterio()
        box = self._window_box(window)
        where = (f'rows {_span(box[0], box[1])}, columns '
                 f'{_span(box[2], box[3])}')
        shape = (out_shape[-2:] if out_shape is not None else
                 (box[1] - box[0], box[3] - box[2]))
        pixels = int(math.ceil(shape[0]) * math.ceil(shape[1]))
        limit = self.max_read_pixels
        if limit is not None and pixels > limit:
            raise RasterSizeError(
                f'Refusing to read the {self.what} {self.name}: one read of '
                f'{pixels:,} pixels ({where}) is above the limit of '
                f'{limit:,} pixels a single read may hold (the size rule, '
                'see the README: '
                '"Security and limits").', pixels, limit)
        args = () if method == 'dataset_mask' else (indexes, )
        bands = self._bands(indexes) if method == 'read' else []
        with gdal_env(), _quiet_georeferencing(), gdal_warnings() as warned:
            if self._deflate and bands:
                self._check_blocks(bands, box, out_shape, where)
            try:
                result = getattr(self.dataset, method)(
                    *args, window=window, out_shape=out_shape, **kwargs)
            except (rasterio.errors.RasterioError,
                    rasterio._err.CPLE_BaseError) as e:
                raise RasterDecodeError(self._decode_message(
                    _gdal_messages(e), where, bands)) from None
        if warned:
            raise RasterDecodeError(self._decode_message(
                warned, where, bands))
        return result

    def _decode_message(self, messages: Sequence[str], where: str,
                        bands: Sequence[int]) -> str:
        detail = messages[-1] if messages else 'unknown GDAL error'
        band = f'band {bands[0]}' if len(bands) == 1 else (
            f'bands {",".join(map(str, bands))}' if bands else
            'its nodata mask')
        block = ''
        for message in messages:
            found = _BLOCK.search(message)
            if found:
                b, bx, by = map(int, found.groups())
                bh, bw = self.dataset.block_shapes[b - 1]
                band = f'band {b}'
                block = (f'; the block that fails holds rows '
                         f'{by * bh}-{(by + 1) * bh - 1}, columns '
                         f'{bx * bw}-{(bx + 1) * bw - 1}')
                break
        truncated = ' (the file is truncated)' if re.search(
            r'got \d+ bytes, expected|[Tt]runcat',
            ' '.join(messages)) else ''
        return (f'Cannot decode the {self.what} {self.name}, {band}, '
                f'{where}{block}: the {self.format} data is '
                f'damaged{truncated}. GDAL says: {detail}. Copy or download '
                'the file again.')

    # ------------------------------------------- DEFLATE block checksums --
    def _check_blocks(self, bands: Sequence[int], box, out_shape,
                      where: str) -> None:
        """zlib checksums of the DEFLATE blocks a read will decode."""
        ds = self.dataset
        if out_shape is not None and ds.overviews(bands[0]) and (
                out_shape[-2] < box[1] - box[0]):
            return  # decimated reads come from the overviews
        interleaved = (ds.tags(ns='IMAGE_STRUCTURE').get('INTERLEAVE',
                                                         'PIXEL') == 'PIXEL')
        for band in bands[:1] if interleaved else bands:
            bh, bw = ds.block_shapes[band - 1]
            for by in range(int(box[0]) // bh,
                            (int(math.ceil(box[1])) - 1) // bh + 1):
                for bx in range(int(box[2]) // bw,
                                (int(math.ceil(box[3])) - 1) // bw + 1):
                    self._check_block(band, bx, by, bh, bw, where)

    def _check_block(self, band: int, bx: int, by: int, bh: int, bw: int,
                     read: str) -> None:
        if (band, bx, by) in self._checked:
            return
        self._checked.add((band, bx, by))
        offset = self.dataset.get_tag_item(f'BLOCK_OFFSET_{bx}_{by}', 'TIFF',
                                           bidx=band)
        size = self.dataset.get_tag_item(f'BLOCK_SIZE_{bx}_{by}', 'TIFF',
                                         bidx=band)
        if not offset or not size:
            return  # a sparse (unwritten) block
        raw = self._raw(int(offset), int(size))
        where = (f'band {band}, {read}; the block that fails holds rows '
                 f'{by * bh}-{(by + 1) * bh - 1}, columns {bx * bw}-'
                 f'{(bx + 1) * bw - 1}')
        try:
            check_deflate_block(raw, int(size),
                                f'the {self.what} {self.name}', where)
        except RasterDecodeError:
            self._checked.discard((band, bx, by))  # and on every read
            raise

    def _raw(self, offset: int, size: int) -> bytes:
        if self._data is not None:
            return self._data[offset:offset + size]
        with open(self.path, 'rb') as f:
            f.seek(offset)
            return f.read(size)

    # ------------------------------------------------------------ close --
    def close(self) -> None:
        """Close the dataset (and its memory file)."""
        self.dataset.close()
        if self._memfile is not None:
            self._memfile.close()

    def __enter__(self) -> 'RasterFile':
        return self

    def __exit__(self, *args) -> None:
        self.close()
