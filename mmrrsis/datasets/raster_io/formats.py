"""Which rasters are opened: formats told by content, local files only, and
VRTs checked to be plain mosaics of allowed files."""
import functools
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

from mmrrsis.utils.optional_deps import import_rasterio

from .errors import UnsupportedRasterError

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
#: The VRTs of a VRT that are followed at most.
MAX_VRT_DEPTH = 4
#: Largest VRT file parsed (bytes).
MAX_VRT_BYTES = 16 * 2**20

TIFF_MAGIC = (b'II*\x00', b'MM\x00*', b'II+\x00', b'MM\x00+')
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
    if head[:4] in TIFF_MAGIC:
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


def read_head(path: str, size: int = 4096) -> bytes:
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


def refuse_format(source: str, found: str, allow_vrt: bool,
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
            found = sniff_format(read_head(source))
            if found == VRT:
                sources += check_vrt(source, depth + 1, seen + (path, ))
            elif found in allowed_formats():
                sources.append(source)
            else:
                refuse(f'its source {source} is {found}')
    return sources
