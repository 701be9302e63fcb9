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
from .errors import (
    RasterDecodeError,
    RasterError,
    RasterSizeError,
    UnsupportedRasterError,
)
from .formats import (
    FORMAT_DRIVERS,
    VRT,
    allowed_formats,
    check_local_path,
    check_vrt,
    describe_format,
    sniff_format,
)
from .integrity import (
    check_deflate_block,
    check_tiff_bytes,
    tiff_deflate_blocks,
)
from .reader import (
    GDAL_OPTIONS,
    RasterFile,
    gdal_env,
    gdal_warnings,
    open_raster,
    open_raster_bytes,
)
from .size_rule import (
    MAX_READ_PIXELS,
    MAX_SCENE_PIXELS,
    check_scene_size,
    limit_from_option,
)

__all__ = [
    'RasterDecodeError',
    'RasterError',
    'RasterSizeError',
    'UnsupportedRasterError',
    'FORMAT_DRIVERS',
    'VRT',
    'allowed_formats',
    'check_local_path',
    'check_vrt',
    'describe_format',
    'sniff_format',
    'check_deflate_block',
    'check_tiff_bytes',
    'tiff_deflate_blocks',
    'GDAL_OPTIONS',
    'RasterFile',
    'gdal_env',
    'gdal_warnings',
    'open_raster',
    'open_raster_bytes',
    'MAX_READ_PIXELS',
    'MAX_SCENE_PIXELS',
    'check_scene_size',
    'limit_from_option',
]
