"""Write files so that a kill at any moment leaves either the old file or
the complete new one: the one helper for checkpoints, converted weights,
progress records and summaries.

The content goes to a temporary file in the same folder, which is flushed
to disk and moved into place with ``os.replace``; the folder's entry is
flushed too.
"""
import json
import os
import os.path as osp
from typing import Any, Callable


def _fsync(path: str) -> None:
    """Flush a file (or a folder's entries) to disk; best effort."""
    flags = os.O_RDONLY
    if osp.isdir(path):
        flags |= getattr(os, 'O_DIRECTORY', 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(out_dir: str, filename: str,
                     write: Callable[[str], None]) -> str:
    """Have ``write`` create ``out_dir/filename`` without a partial file.

    Args:
        out_dir (str): A local folder.
        filename (str): The final name (relative to ``out_dir``).
        write (callable): Called with a temporary file name relative to
            ``out_dir`` (``.<filename>.tmp-<pid>``, next to the final
            file) that it must create.

    Returns:
        str: The final path.
    """
    final = osp.join(out_dir, filename)
    tmp_name = f'.{osp.basename(filename)}.tmp-{os.getpid()}'
    tmp = osp.join(osp.dirname(final), tmp_name)
    try:
        write(osp.relpath(tmp, out_dir))
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync(osp.dirname(final) or '.')
    return final


def write_json_atomically(path: str, data: Any, **dump_args) -> str:
    """Write ``data`` as JSON to ``path`` (see :func:`write_atomically`).

    Args:
        path (str): The file.
        data: JSON-serialisable (``default=str`` for the rest).
        **dump_args: More arguments of :func:`json.dump`; ``indent=1``
            unless given.

    Returns:
        str: ``path``.
    """
    dump_args.setdefault('indent', 1)
    dump_args.setdefault('default', str)
    folder = osp.dirname(path) or '.'

    def write(name: str) -> None:
        with open(osp.join(folder, name), 'w') as f:
            json.dump(data, f, **dump_args)

    return write_atomically(folder, osp.basename(path), write)


__all__ = ['write_atomically', 'write_json_atomically']
