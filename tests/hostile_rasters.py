"""Hostile and damaged rasters, written by the tests themselves.

- VRTs (GDAL's XML that makes it read other files) saved as ``.tif``: a
  ``VRTRawRasterBand`` that reads the bytes of any file, a
  ``SimpleSource`` mosaic of an image on disk, sources behind ``/vsizip/``
  and ``/vsicurl/``, a ``PixelFunctionCode`` Python function;
- a GeoTIFF whose compressed data is damaged (3,000 bytes overwritten in
  the middle of its data) or truncated;
- a sparse TIFF of absurd shape (5,000,000 x 64 pixels declared, about a
  quarter of a megabyte on disk).
"""
import os.path as osp
import zipfile
from typing import Sequence

import numpy as np

#: What the "server's" private file starts with.
SECRET_MARK = b'MMRRSIS-SECRET-'


def write_secret_bytes(path: str, size: int = 64 * 64 * 3) -> bytes:
    """A private file of ``size`` bytes (the marker, then random)."""
    rng = np.random.default_rng(20)
    data = SECRET_MARK + rng.integers(
        0, 256, size - len(SECRET_MARK), dtype=np.uint8).tobytes()
    with open(path, 'wb') as f:
        f.write(data)
    return data


def write_secret_image(path: str, size: int = 64) -> np.ndarray:
    """A private GeoTIFF of random RGB pixels; returns them (3, H, W)."""
    import rasterio
    pixels = np.random.default_rng(21).integers(
        1, 256, (3, size, size), dtype=np.uint8)
    with rasterio.open(path, 'w', driver='GTiff', width=size, height=size,
                       count=3, dtype='uint8') as dst:
        dst.write(pixels)
    return pixels


def vrt_raw_band(target: str, size: int = 64) -> str:
    """A VRT whose three bands are the raw bytes of ``target``."""
    bands = ''.join(
        f'<VRTRasterBand dataType="Byte" band="{b}" '
        'subClass="VRTRawRasterBand">'
        f'<SourceFilename relativeToVRT="0">{target}</SourceFilename>'
        f'<ImageOffset>{b - 1}</ImageOffset><PixelOffset>3</PixelOffset>'
        f'<LineOffset>{3 * size}</LineOffset></VRTRasterBand>'
        for b in (1, 2, 3))
    return (f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">{bands}'
            '</VRTDataset>')


def vrt_sources(filename: str, size: int = 64, bands: Sequence[int] = (1, 2,
                                                                      3),
                relative: bool = False) -> str:
    """A plain VRT (what gdalbuildvrt writes): each band a SimpleSource of
    the same band of ``filename``."""
    items = ''.join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="{int(relative)}">{filename}'
        f'</SourceFilename><SourceBand>{b}</SourceBand>'
        f'<SrcRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>'
        f'<DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>'
        '</SimpleSource></VRTRasterBand>' for b in bands)
    return (f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">{items}'
            '</VRTDataset>')


def vrt_python(marker: str, source: str, size: int = 64) -> str:
    """A VRT whose band is a Python pixel function that writes ``marker``
    (code run by opening an image)."""
    code = (f"def f(in_ar, out_ar, *args, **kwargs):\n"
            f"    open({marker!r}, 'w').write('ran')\n"
            "    out_ar[:] = 42\n")
    return (f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}">'
            '<VRTRasterBand dataType="Byte" band="1" '
            'subClass="VRTDerivedRasterBand">'
            '<PixelFunctionType>f</PixelFunctionType>'
            '<PixelFunctionLanguage>Python</PixelFunctionLanguage>'
            f'<PixelFunctionCode><![CDATA[{code}]]></PixelFunctionCode>'
            f'<SimpleSource><SourceFilename relativeToVRT="0">{source}'
            '</SourceFilename><SourceBand>1</SourceBand></SimpleSource>'
            '</VRTRasterBand></VRTDataset>')


def write_text(path: str, text: str) -> str:
    with open(path, 'w') as f:
        f.write(text)
    return path


def zip_of(path: str, member: str) -> str:
    """``path`` + '.zip' holding ``member``; returns the zip's path."""
    archive = path + '.zip'
    with zipfile.ZipFile(archive, 'w') as z:
        z.write(member, osp.basename(member))
    return archive


def _blocks(path: str):
    """(offset, size, (bx, by)) of band 1's blocks (GDAL's metadata)."""
    import rasterio
    with rasterio.open(path) as ds:
        bh, bw = ds.block_shapes[0]
        for by in range(-(-ds.height // bh)):
            for bx in range(-(-ds.width // bw)):
                offset = ds.get_tag_item(f'BLOCK_OFFSET_{bx}_{by}', 'TIFF',
                                         bidx=1)
                size = ds.get_tag_item(f'BLOCK_SIZE_{bx}_{by}', 'TIFF',
                                       bidx=1)
                if offset and size:
                    yield int(offset), int(size), (bx, by, bw, bh)


def damage_middle(src: str, dst: str, num: int = 3000) -> dict:
    """Copy ``src`` with ``num`` random bytes overwritten in the middle of
    its compressed data: in the middle of the block nearest the file's
    middle (a file written in pieces can hold unused bytes there).

    Returns:
        dict: ``rows`` and ``cols`` (inclusive) of the damaged block.
    """
    with open(src, 'rb') as f:
        data = bytearray(f.read())
    middle = len(data) // 2
    offset, size, (bx, by, bw, bh) = min(
        _blocks(src),
        key=lambda b: 0 if b[0] <= middle < b[0] + b[1] else min(
            abs(b[0] - middle), abs(b[0] + b[1] - middle)))
    start = offset + max(0, (size - num) // 2)
    end = min(start + num, offset + size)
    data[start:end] = np.random.default_rng(3).integers(
        0, 256, end - start, dtype=np.uint8).tobytes()
    with open(dst, 'wb') as f:
        f.write(bytes(data))
    return dict(rows=(by * bh, (by + 1) * bh - 1),
                cols=(bx * bw, (bx + 1) * bw - 1))


def truncate(src: str, dst: str, keep: float = 2 / 3) -> None:
    """Copy the first ``keep`` of ``src`` (an interrupted download)."""
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def write_sparse_tiff(path: str, height: int = 5_000_000,
                      width: int = 64) -> None:
    """A tiled TIFF declaring ``height`` x ``width`` RGB pixels with one
    block written (the others are sparse: no bytes on disk)."""
    import rasterio
    from rasterio.windows import Window
    with rasterio.open(path, 'w', driver='GTiff', width=width,
                       height=height, count=3, dtype='uint8', tiled=True,
                       blockxsize=64, blockysize=160, compress='deflate',
                       sparse_ok=True) as dst:
        dst.write(np.full((3, 160, 64), 90, np.uint8),
                  window=Window(0, 0, 64, 160))
