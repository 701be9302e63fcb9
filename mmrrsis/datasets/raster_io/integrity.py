"""Checksums of compressed TIFF blocks: libtiff stops inflating a DEFLATE
block once it has the block's bytes and never reads its zlib checksum, so
a damaged block can decode to garbage without a word."""
import io
import zlib
from typing import Iterator, Tuple

from .errors import RasterDecodeError
from .formats import TIFF_MAGIC


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
    if data[:4] not in TIFF_MAGIC:
        return
    from PIL import Image
    if image is None:
        try:
            image = Image.open(io.BytesIO(data))
        except Exception:  # Pillow cannot parse it: GDAL will say
            return
    for offset, size, where in tiff_deflate_blocks(image):
        check_deflate_block(data[offset:offset + size], size,
                            f'the {what} {source}', where)
