"""The one door through which mmrrsis opens a user's raster.

Every reader of a user's raster goes through :func:`open_raster` (a file)
or :func:`open_raster_bytes` (a file's content): the scene inference
(:class:`~mmrrsis.apis.scene.SceneSource`, ``tools/infer_scene.py``), the
web app, the GDAL path of
:class:`~mmrrsis.datasets.transforms.LoadRSImageFromFile` and so the
dataset doctor. GDAL reads a hundred formats, some of which make it read
*other* files (a VRT names any file on the disk, ``/vsizip/`` and
``/vsicurl/`` paths reach into archives and the network, sidecar files
``.ovr`` / ``.aux.xml`` / ``.msk`` are picked up next to the file); a
server that hands user uploads to GDAL would serve its own files back. So:

- **formats are allowed by their content, not their name**: the first
  bytes are sniffed (:func:`sniff_format`) and the file is opened with
  that format's GDAL driver only: GeoTIFF / COG (``GTiff``), PNG, JPEG and
  JPEG 2000 (when the rasterio wheel has ``JP2OpenJPEG``). Anything else
  (a VRT named ``x.tif``, a zip, netCDF, ...) raises
  :class:`UnsupportedRasterError` naming the file and the format found;
- **only local files**: URLs, ``/vsi...`` paths and GDAL's
  ``DRIVER:...`` connection strings are refused;
- **VRT mosaics on request** (``allow_vrt=True``; ``--allow-vrt`` of the
  scene CLI; never in the web app): the VRT is parsed first
  (:func:`check_vrt`) and refused unless it is a plain mosaic (sourced
  bands: no ``VRTRawRasterBand``, which reads raw bytes of any file, no
  derived bands / pixel functions, no warped or processed datasets) whose
  every source is an allowed local raster (checked the same way,
  recursively);
- **GDAL runs with** :data:`GDAL_OPTIONS` (inside ``rasterio.Env``, for
  the open and every read): no directory listing (so no sidecar file is
  ever looked at), no PAM ``.aux.xml`` read or written, no Python in
  VRTs, no network (curl-based file systems allow no file), read errors
  not ignored, libjpeg warnings raised as errors;
- **decode errors are errors** (:class:`RasterDecodeError`, naming the
  file, band, the window read and the block that failed): GDAL errors of
  a read, and GDAL *warnings* during a read (corrupt JPEG data, an LZW
  strip without its end code, ...), which GDAL would otherwise only log;
  DEFLATE-compressed TIFF blocks are also checked against their zlib
  checksum before they are used (libtiff stops inflating once it has the
  block's bytes and never reads the checksum, so a damaged block can
  decode to garbage without a word);
- **the size rule** (:func:`check_scene_size`, :data:`MAX_READ_PIXELS`):
  what a run will compute (windows x window pixels x expressions) and what
  one read holds are limited, with messages naming the rule.
"""
import contextlib
import functools
import logging
import math
import os
import os.path as osp
import re
import threading
import xml.etree.ElementTree as ET
import zlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from mmrrsis.utils.optional_deps import import_rasterio

#: GDAL driver of each format mmrrsis opens (JPEG 2000 only when the
#: rasterio wheel has the driver, see :func:`allowed_formats`).
FORMAT_DRIVERS = {
    'GeoTIFF': 'GTiff',
    'PNG': 'PNG',
    'JPEG': 'JPEG',
    'JPEG 2000': 'JP2OpenJPEG',
}
#: The VRT format, opened only with ``allow_vrt=True``.
VRT = 'GDAL VRT'

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

#: Most pixels (height x width) one read may hold: a window, a strip, a
#: decimated read, a whole image read by ``LoadRSImageFromFile``, the
#: scene inference's row buffer (per expression and class).
MAX_READ_PIXELS = 2**28
#: Default most pixels a scene run computes (windows x window pixels x
#: expressions), for ``SceneInferencer`` and ``tools/infer_scene.py``.
MAX_SCENE_PIXELS = 300_000_000
#: The VRTs of a VRT that are followed at most.
MAX_VRT_DEPTH = 4
#: Largest VRT file parsed (bytes).
MAX_VRT_BYTES = 16 * 2**20

_TIFF_MAGIC = (b'II*\x00', b'MM\x00*', b'II+\x00', b'MM\x00+')
_OTHER_MAGIC = (
    (b'PK\x03\x04', 'a ZIP archive'),
    (b'\x1f\x8b', 'a gzip archive'),
    (b'GIF8', 'a GIF image'),
    (b'BM', 'a BMP image'),
    (b'\x89HDF', 'an HDF5 file'),
    (b'CDF\x01', 'a netCDF file'),
    (b'CDF\x02', 'a netCDF file'),
    (b'%PDF', 'a PDF document'),
    (b'NITF', 'a NITF file'),
    (b'SQLite format 3', 'an SQLite / GeoPackage database'),
)
_PREFIX = re.compile(r'^[A-Za-z][A-Za-z0-9_]+:')
_VSI = re.compile(r'(^|[:"\s])/vsi', re.IGNORECASE)
_BLOCK = re.compile(r'band (\d+): IReadBlock failed at X offset (\d+), '
                    r'Y offset (\d+)')
#: GDAL warnings of a read that say nothing about the pixels.
_HARMLESS_WARNINGS = ('iCCP', )


class RasterError(ValueError):
    """A user's raster that mmrrsis will not or cannot read."""


class UnsupportedRasterError(RasterError):
    """A path or a format the raster opener refuses."""


class RasterDecodeError(RasterError):
    """A raster whose data is damaged or truncated."""


class RasterSizeError(RasterError):
    """A read or a run above the size rule.

    Attributes:
        pixels (int): What was asked for.
        limit (int): The limit.
    """

    def __init__(self, message: str, pixels: int, limit: int) -> None:
        super().__init__(message)
        self.pixels = pixels
        self.limit = limit


# ------------------------------------------------------------ formats --


@functools.cache
def _has_driver(driver: str) -> bool:
    try:
        rasterio = import_rasterio()
    except ImportError:
        return True  # said when a read needs rasterio
    with rasterio.Env() as env:
        return driver in env.drivers()


def allowed_formats(allow_vrt: bool = False) -> Dict[str, str]:
    """Format name -> GDAL driver of the formats the opener reads.

    Args:
        allow_vrt (bool): Include VRT. Defaults to False.

    Returns:
        dict[str, str]: E.g. ``{'GeoTIFF': 'GTiff', ...}``.
    """
    formats = {
        name: driver
        for name, driver in FORMAT_DRIVERS.items() if _has_driver(driver)
    }
    if allow_vrt:
        formats[VRT] = 'VRT'
    return formats


def sniff_format(head: bytes) -> str:
    """What a file is, from its first bytes (its name is not looked at).

    Args:
        head (bytes): The first bytes of the file (4 KiB are enough).

    Returns:
        str: A key of :data:`FORMAT_DRIVERS`, :data:`VRT`, or a
        description of something else ('an XML file', 'a ZIP archive',
        'an empty file', 'unknown content (first bytes ...)').
    """
    if not head:
        return 'an empty file'
    if head[:4] in _TIFF_MAGIC:
        return 'GeoTIFF'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'PNG'
    if head.startswith(b'\xff\xd8\xff'):
        return 'JPEG'
    if head.startswith(b'\x00\x00\x00\x0cjP  \r\n\x87\n') or \
            head.startswith(b'\xffO\xffQ'):
        return 'JPEG 2000'
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'a WebP image'
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    text = head.lstrip(b'\xef\xbb\xbf \t\r\n')
    if text.startswith(b'<'):
        return VRT if b'<VRTDataset' in head else 'an XML file'
    return f'unknown content (first bytes {head[:8]!r})'


def describe_format(found: str) -> str:
    """:func:`sniff_format`'s answer in a sentence ('a GeoTIFF file')."""
    if found in FORMAT_DRIVERS or found == VRT:
        return f'a {found} file'
    return found


def _is_vsi(path: str) -> bool:
    """Whether GDAL would read ``path`` through a virtual file system."""
    return bool(_VSI.search(path.replace('\\', '/')))


def _read_head(path: str, size: int = 4096) -> bytes:
    with open(path, 'rb') as f:
        return f.read(size)


def check_local_path(path: str, what: str = 'raster') -> str:
    """The absolute path of a local file; URLs and GDAL paths refused.

    Args:
        path (str): What the user gave.
        what (str): What the file is, for messages. Defaults to 'raster'.

    Returns:
        str: The absolute path.

    Raises:
        UnsupportedRasterError: A URL, a ``/vsi...`` path or a GDAL
            connection string (``NAME:...``).
        FileNotFoundError: No such file.
        IsADirectoryError: A directory.
    """
    path = os.fspath(path)
    if '://' in path or _is_vsi(path) or _is_vsi(osp.abspath(path)) or (
            _PREFIX.match(path) and not osp.exists(path)):
        raise UnsupportedRasterError(
            f'Refusing to open the {what} {path}: mmrrsis opens local files '
            'only, not URLs, GDAL virtual file systems (/vsizip/, '
            '/vsicurl/, ...) or connection strings. Download or extract it '
            'first.')
    if osp.isdir(path):
        raise IsADirectoryError(f'{path} is a directory, not a {what} '
                                'file')
    if not osp.isfile(path):
        raise FileNotFoundError(f'The {what} file was not found: {path}')
    return osp.abspath(path)


def _refuse_format(source: str, found: str, allow_vrt: bool,
                   what: str) -> None:
    names = ', '.join(allowed_formats(allow_vrt))
    if found == VRT:
        raise UnsupportedRasterError(
            f'Cannot read the {what} {source}: refused, its content is a '
            f'{VRT} (an XML file that makes GDAL read other files), '
            f'whatever its name says; allowed here: {names}. A mosaic built '
            'with gdalbuildvrt can be opened with tools/infer_scene.py '
            '--allow-vrt or SceneInferencer(...)(..., allow_vrt=True); the '
            'web app never opens one. Or convert it: gdal_translate '
            'mosaic.vrt scene.tif')
    raise UnsupportedRasterError(
        f'Cannot read the {what} {source}: refused, its content is '
        f'{describe_format(found)} (whatever its name says), not one of the '
        f'formats mmrrsis opens: {names}.')


# --------------------------------------------------------------- VRTs --


def _vrt_source_path(element, vrt_path: str) -> str:
    text = (element.text or '').strip()
    relative = element.get('relativeToVRT', element.get('relativetoVRT',
                                                        '0'))
    if relative.strip() == '1':
        return osp.join(osp.dirname(vrt_path), text)
    return text


def check_vrt(path: str, depth: int = 0,
              seen: Tuple[str, ...] = ()) -> List[str]:
    """Check that a VRT is a plain mosaic of allowed local rasters.

    Args:
        path (str): The VRT file (absolute).
        depth (int): How many VRTs led here. Defaults to 0.
        seen (tuple[str, ...]): The VRTs that led here (cycles).

    Returns:
        list[str]: The source files (absolute), VRTs expanded.

    Raises:
        UnsupportedRasterError: What in the VRT is refused, and where.
    """
    def refuse(why: str):
        raise UnsupportedRasterError(
            f'Refusing the VRT {path}: {why}. With --allow-vrt / '
            'allow_vrt=True mmrrsis opens plain mosaics (gdalbuildvrt) of '
            'local GeoTIFF, PNG, JPEG or JPEG 2000 files only.')

    if depth > MAX_VRT_DEPTH or path in seen:
        refuse('VRTs nested too deep, or a VRT that includes itself')
    if osp.getsize(path) > MAX_VRT_BYTES:
        refuse(f'larger than {MAX_VRT_BYTES // 2**20} MiB')
    with open(path, 'rb') as f:
        text = f.read()
    if b'<!DOCTYPE' in text or b'<!ENTITY' in text:
        refuse('it declares a DOCTYPE or XML entities')
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        refuse(f'not well-formed XML ({e})')
    if root.tag != 'VRTDataset' or root.get('subClass'):
        refuse(f'a {root.get("subClass") or root.tag}, not a plain '
               'VRTDataset')
    sources = []
    for element in root.iter():
        sub = element.get('subClass')
        if element.tag == 'VRTRasterBand' and sub not in (
                None, 'VRTSourcedRasterBand'):
            refuse(f'band {element.get("band")} is a {sub} (raw bands read '
                   'the bytes of any file; derived bands run pixel '
                   'functions)')
        if element.tag.startswith('PixelFunction'):
            refuse(f'it holds a <{element.tag}>')
        values = [element.text or ''] + list(element.attrib.values())
        for value in values:
            if '://' in value or _is_vsi(value.strip()):
                refuse(f'<{element.tag}> names {value.strip()!r}, a URL or '
                       'a GDAL virtual file system')
        if element.tag in ('SourceFilename', 'SourceDataset'):
            source = _vrt_source_path(element, path)
            try:
                source = check_local_path(source, 'VRT source')
            except (UnsupportedRasterError, FileNotFoundError,
                    IsADirectoryError) as e:
                refuse(str(e))
            found = sniff_format(_read_head(source))
            if found == VRT:
                sources += check_vrt(source, depth + 1, seen + (path, ))
            elif found in allowed_formats():
                sources.append(source)
            else:
                refuse(f'its source {source} is {found}')
    return sources


# ----------------------------------------------------------- the door --


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
    found = sniff_format(_read_head(path))
    formats = allowed_formats(allow_vrt)
    if found not in formats:
        _refuse_format(name, found, allow_vrt, what)
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
        _refuse_format(source, found, False, what)
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


def check_deflate_block(raw: bytes, size: int, source: str,
                        where: str) -> None:
    """Raise unless ``raw`` is a whole zlib stream with a good checksum.

    Args:
        raw (bytes): The block's bytes as stored.
        size (int): The size the file's directory gives the block.
        source (str): The file, for messages ('the image x.tif').
        where (str): The band, window and block, for messages.

    Raises:
        RasterDecodeError: Truncated, or the stream does not inflate to
            the end with its checksum.
    """
    if len(raw) < size:
        raise RasterDecodeError(
            f'Cannot decode {source}, {where}: the file is truncated (the '
            f'block needs {size} bytes, {len(raw)} are there). Copy or '
            'download the file again.')
    try:
        inflater = zlib.decompressobj()
        while raw:  # in pieces: a damaged block cannot inflate to a bomb
            inflater.decompress(raw, 2**22)
            raw = inflater.unconsumed_tail
        if not inflater.eof:
            raise zlib.error('the stream ends early')
    except zlib.error as e:
        raise RasterDecodeError(
            f'Cannot decode {source}, {where}: the GeoTIFF data is damaged '
            f'(the DEFLATE block fails its checksum: {e}). Copy or download '
            'the file again.') from None


def tiff_deflate_blocks(image) -> Iterator[Tuple[int, int, str]]:
    """(offset, size, where) of each DEFLATE block of a TIFF Pillow opened.

    Args:
        image (PIL.Image.Image): An open TIFF (first image).

    Yields:
        tuple[int, int, str]: Offset and size of a block, and its band,
        rows and columns for messages. Nothing for other compressions.
    """
    tags = image.tag_v2
    if tags.get(259) not in (8, 32946):  # Adobe deflate, deflate
        return
    width, height = image.size
    if 324 in tags:
        offsets, sizes = tags[324], tags[325]
        bw, bh = int(tags[322]), int(tags[323])
    else:
        offsets, sizes = tags.get(273, ()), tags.get(279, ())
        bw, bh = width, int(tags.get(278, height))
    across = max(1, -(-width // bw))
    down = max(1, -(-height // bh))
    for k, (offset, size) in enumerate(zip(offsets, sizes)):
        if not size:
            continue
        index = k % (across * down)
        by, bx = divmod(index, across)
        band = (f'band {k // (across * down) + 1}' if len(offsets) > (
            across * down) else 'all bands')
        yield int(offset), int(size), (
            f'{band}, rows 0-{height - 1}, columns 0-{width - 1}; the block '
            f'that fails holds rows {by * bh}-{(by + 1) * bh - 1}, columns '
            f'{bx * bw}-{(bx + 1) * bw - 1}')


def check_tiff_bytes(data: bytes, source: str, image=None,
                     what: str = 'image') -> None:
    """Check the DEFLATE blocks of a TIFF file's content (no GDAL).

    For readers that decode TIFFs without GDAL (the fast path of
    ``LoadRSImageFromFile``, the dataset doctor). Other compressions and
    other formats pass (they carry no checksum to check).

    Args:
        data (bytes): The file's content.
        source (str): The file, for messages.
        image (PIL.Image.Image, optional): ``data`` already opened by
            Pillow. Defaults to None (opened here).
        what (str): What the file is, for messages. Defaults to 'image'.

    Raises:
        RasterDecodeError: A damaged or truncated block.
    """
    if data[:4] not in _TIFF_MAGIC:
        return
    import io

    from PIL import Image
    if image is None:
        try:
            image = Image.open(io.BytesIO(data))
        except Exception:  # Pillow cannot parse it: GDAL will say
            return
    for offset, size, where in tiff_deflate_blocks(image):
        check_deflate_block(data[offset:offset + size], size,
                            f'the {what} {source}', where)


# ---------------------------------------------------------- size rule --


def check_scene_size(source: str,
                     rows: Sequence[Tuple[int, int]],
                     cols: Sequence[Tuple[int, int]],
                     expressions: int,
                     classes: int,
                     buffer_rows: int,
                     max_pixels: Optional[int] = MAX_SCENE_PIXELS,
                     max_read_pixels: Optional[int] = MAX_READ_PIXELS,
                     option: str = '--max-pixels') -> int:
    """Apply the size rule to a scene run before any pixel is read.

    The rule: ``windows x window pixels x expressions`` (what the model
    computes, on the model grid) at most ``max_pixels``; the run's row
    buffer (``buffer_rows x width`` per expression and class) at most
    ``max_read_pixels``.

    Args:
        source (str): The scene, for messages.
        rows, cols (Sequence[tuple[int, int]]): The windows' spans along
            each axis.
        expressions (int): Number of expressions.
        classes (int): Output channels of the model.
        buffer_rows (int): Rows of the row buffer.
        max_pixels (int, optional): None: no limit. Defaults to
            :data:`MAX_SCENE_PIXELS`.
        max_read_pixels (int, optional): None: no limit. Defaults to
            :data:`MAX_READ_PIXELS`.
        option (str): How the caller sets ``max_pixels``, for messages.
            Defaults to '--max-pixels'.

    Returns:
        int: The pixels the run computes.

    Raises:
        RasterSizeError: Above a limit; the message names the rule and
            the numbers.
    """
    height = sum(b - a for a, b in rows)
    width = sum(b - a for a, b in cols)
    windows = len(rows) * len(cols)
    computed = height * width * expressions
    if max_pixels is not None and computed > max_pixels:
        raise RasterSizeError(
            f'Refusing to run on {source}: {windows:,} windows x their '
            f'pixels x {expressions} expression(s) = {computed:,} pixels to '
            f'compute, above the limit of {max_pixels:,} (the size rule: '
            'windows x window pixels x expressions, on the model grid). If '
            f'the scene is meant to be this large, set {option} to at '
            f'least {computed:,} (0: no limit).', computed, max_pixels)
    last = cols[-1][1] if cols else 0
    buffered = buffer_rows * last * expressions * classes
    if max_read_pixels is not None and buffered > max_read_pixels:
        raise RasterSizeError(
            f'Refusing to run on {source}: a scene {last:,} pixels wide '
            f'needs a row buffer of {buffer_rows} rows x {last:,} columns x '
            f'{expressions} expression(s) x {classes} classes = '
            f'{buffered:,} values, above the limit of {max_read_pixels:,} '
            'for one buffer or read (the size rule). Cut the scene into '
            'narrower strips, or use fewer expressions per run.', buffered,
            max_read_pixels)
    return computed


def limit_from_option(value: Union[int, None]) -> Optional[int]:
    """A ``--max-pixels`` value as a limit: 0 or a negative -> None."""
    if value is None or int(value) <= 0:
        return None
    return int(value)
