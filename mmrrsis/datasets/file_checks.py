"""Cheap checks of a dataset's files, made when the dataset is built.

- :func:`read_image_size`: the (height, width) an image decodes to, from
  its header (no pixel is decoded for JPEG, PNG and TIFF), with a clear
  error for a missing file, a directory, a 0-byte file or an unreadable
  header;
- :func:`read_split_text`: a text annotation file (RefSegRS'
  ``output_phrase_*.txt``) decoded as UTF-8, with or without a byte order
  mark, and an error naming the file and line for any other encoding.
"""
import io
import os.path as osp
import warnings
from typing import Optional, Tuple

import cv2
import numpy as np
from mmengine import fileio

# EXIF orientations that swap width and height (cv2 applies them)
_TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)
_EXIF_ORIENTATION = 0x0112


def _is_local(backend_args: Optional[dict]) -> bool:
    return not backend_args or backend_args.get('backend') in (None,
                                                               'local')


def read_image_size(path: str,
                    backend_args: Optional[dict] = None,
                    what: str = 'Image') -> Tuple[int, int]:
    """The (height, width) of an image as OpenCV decodes it.

    The size comes from the file's header (Pillow); an EXIF orientation
    that rotates by 90 degrees swaps it, as ``cv2.imdecode`` (and so mmcv's
    ``LoadImageFromFile``) rotates the pixels. Files Pillow cannot parse
    (e.g. some multi-band TIFFs) are decoded with OpenCV instead.

    Args:
        path (str): The image file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None (local files).
        what (str): What the file is, for messages ('Image', 'Mask').
            Defaults to 'Image'.

    Returns:
        tuple[int, int]: (height, width).

    Raises:
        FileNotFoundError: The file does not exist.
        IsADirectoryError: The path is a directory.
        ValueError: The file is empty or not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    if _is_local(backend_args):
        if osp.isdir(path):
            raise IsADirectoryError(
                f'{what} path is a directory, not a file: {path}')
        if not osp.exists(path):
            raise FileNotFoundError(f'{what} not found: {path}')
        if osp.getsize(path) == 0:
            raise ValueError(f'{what} file is empty (0 bytes): {path}')
        source = path
    else:
        try:
            data = fileio.get(path, backend_args=backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(f'{what} not found: {path}') from e
        if not data:
            raise ValueError(f'{what} file is empty (0 bytes): {path}')
        source = io.BytesIO(data)
    try:
        # Pillow warns about damaged EXIF blocks; an unreadable header
        # raises below with the file named, which says more
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with Image.open(source) as img:
                width, height = img.size
                orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    except (UnidentifiedImageError, OSError, ValueError,
            SyntaxError) as pil_error:
        shape = _decode_shape(path, backend_args)
        if shape is None:
            from .raster_io import describe_format, sniff_format
            head = fileio.get(path, backend_args=backend_args)[:4096]
            raise ValueError(
                f'{what} file cannot be read: {path} (its content is '
                f'{describe_format(sniff_format(head))}: not an image, or '
                f'its header is corrupt: {pil_error})') from None
        return shape
    if orientation in _TRANSPOSING_ORIENTATIONS:
        width, height = height, width
    return int(height), int(width)


def _decode_shape(path: str,
                  backend_args: Optional[dict]) -> Optional[Tuple[int, int]]:
    """(height, width) from a full OpenCV decode, or None if it fails."""
    try:
        data = fileio.get(path, backend_args=backend_args)
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except (cv2.error, OSError):
        return None
    if img is None or img.size == 0:
        return None
    return int(img.shape[0]), int(img.shape[1])


def read_split_text(path: str, backend_args: Optional[dict] = None) -> str:
    """Read a text annotation file as UTF-8 (a byte order mark is dropped).

    Args:
        path (str): The file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Returns:
        str: The text, without a leading BOM.

    Raises:
        ValueError: The file is not UTF-8 text; the message names the file,
            the line and the offending bytes.
    """
    data = fileio.get(path, backend_args=backend_args)
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b'\n') + 1
        bad = data[e.start:e.end + 3]
        raise ValueError(
            f'{path} is not UTF-8 text: line {line} holds the bytes {bad!r} '
            f'({e.reason}). Convert the file to UTF-8, e.g. iconv -f '
            '<its encoding> -t utf-8.') from None
