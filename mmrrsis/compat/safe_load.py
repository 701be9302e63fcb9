"""Read checkpoint files without running code from them.

A ``.pth`` file is a zip archive holding a pickle, and a pickle can name any
Python callable to be called while it is read. :func:`load_checkpoint_file`
is the one place where mmrrsis reads such files (inference, testing,
``load_from``, ``--resume``, the model converters). It reads with
``torch.load(weights_only=True)``: tensors, numbers, strings, lists, dicts,
plus the small allowlist :data:`SAFE_GLOBALS` (numpy arrays, dtypes and
scalars, which mmengine's checkpoints hold in their metadata), all inside
:func:`torch.serialization.safe_globals`, so nothing changes for other
``torch.load`` calls in the process.

A file that needs anything else (a class of another library, a function)
raises :class:`UnsafeCheckpointError`, which names the globals the file asks
for. Full unpickling, which runs whatever the file names, only happens with
the explicit opt-in ``unsafe_load=True`` (``--unsafe-load`` on the command
line), for files one trusts.

Before unpickling, the zip structure and every member's CRC-32 are checked
(:func:`check_zip_integrity`, one sequential read of the file), so a
truncated, empty or bit-flipped file is reported as such
(:class:`CorruptCheckpointError`) instead of loading wrong numbers or
failing deep inside torch.
"""
import argparse
import os.path as osp
import pickle
import re
import zipfile
from typing import Callable, Iterable, List, Optional, Tuple, Union

import numpy as np
import torch

#: How the opt-in is spelled in messages (API argument, CLI flag).
OPT_IN = '`unsafe_load=True` (command line: `--unsafe-load`)'


def _numpy_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """numpy's array, dtype and scalar reconstructors, under the names that
    numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) pickle them with.
    """
    core = getattr(np, '_core', None) or np.core
    multiarray = core.multiarray
    found: List[Union[Callable, Tuple[Callable, str]]] = [
        np.ndarray, np.dtype
    ]
    for name in ('_reconstruct', 'scalar'):
        func = getattr(multiarray, name)
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            found.append((func, f'{module}.{name}'))
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25: a class per dtype
    if dtypes is not None:
        found += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return found


#: What our own checkpoints may hold besides tensors and plain Python data:
#: numpy arrays, dtypes and scalars (data only; no callable that could be
#: pointed at other code).
SAFE_GLOBALS = _numpy_globals()

#: Extra globals of the reference implementations' checkpoints (LAVT,
#: RMSIN): their ``train.py`` saves the command-line ``args`` as an
#: ``argparse.Namespace``, a plain attribute container.
REFERENCE_GLOBALS = [argparse.Namespace]


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs full unpickling (it names code to run)."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file is empty, truncated or damaged."""


def _unsafe_globals(filename: str, allowed_globals: list) -> List[str]:
    """Globals the file names that are not in ``allowed_globals``."""
    allowed = set()
    for item in allowed_globals:
        if isinstance(item, tuple):
            allowed.add(item[1])
        else:
            allowed.add(f'{item.__module__}.{item.__qualname__}')
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # an old format or a damaged file: no list
        return []
    return [n for n in names if n not in allowed]


def _refusal(filename: str, error: Exception,
             allowed_globals: list) -> UnsafeCheckpointError:
    """The message for a file that needs full unpickling."""
    names = _unsafe_globals(filename, allowed_globals)
    if not names:
        match = re.search(r'GLOBAL ([\w.]+)', str(error))
        names = [match.group(1)] if match else []
    why = ', '.join(names) if names else 'objects beyond tensors and data'
    hint = ''
    if 'builtins.getattr' in names or any('HistoryBuffer' in n
                                          for n in names):
        hint = (' It looks like a checkpoint written by mmengine\'s '
                'CheckpointHook, which pickles the message hub\'s '
                'HistoryBuffer objects (they need builtins.getattr); '
                'mmrrsis\'s RRSISCheckpointHook writes them as plain data.')
    return UnsafeCheckpointError(
        f'Refusing to load {filename}: reading it would run code named in '
        f'the file ({why}), which a checkpoint of weights does not need.'
        f'{hint} If you trust where the file comes from, load it with '
        f'{OPT_IN}, which unpickles it completely.')


def check_zip_integrity(filename: str) -> None:
    """Raise if a torch zip checkpoint is truncated or a member is damaged.

    Reads the whole file once and compares every member's CRC-32 with the
    one stored in the archive (torch itself does not check them, so a
    flipped bit loads as a wrong number).

    Args:
        filename (str): A local file.

    Raises:
        CorruptCheckpointError: Empty, not a zip archive (truncated files
            lose the directory at the end), or a member whose CRC differs.
    """
    size = osp.getsize(filename)
    if size == 0:
        raise CorruptCheckpointError(
            f'The checkpoint {filename} is empty (0 bytes): it was probably '
            'being written when the process was stopped.')
    if not zipfile.is_zipfile(filename):
        with open(filename, 'rb') as f:
            head = f.read(4)
        if head[:2] == b'\x80\x02' or head[:1] == b'\x80':
            return  # torch's legacy (pre-1.6) format, not a zip archive
        raise CorruptCheckpointError(
            f'The checkpoint {filename} ({size} bytes) is not a complete '
            'torch checkpoint (no zip directory: truncated while written, '
            'or another kind of file).')
    try:
        with zipfile.ZipFile(filename) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CorruptCheckpointError(
            f'The checkpoint {filename} is damaged: {e}') from e
    if bad is not None:
        raise CorruptCheckpointError(
            f'The checkpoint {filename} is damaged: the data of "{bad}" '
            'does not match its stored CRC-32 (a changed byte on disk or '
            'in transfer). Copy or download it again.')


def load_checkpoint_file(filename: str,
                         map_location: Optional[Union[str, Callable,
                                                      torch.device]] = 'cpu',
                         unsafe_load: bool = False,
                         extra_safe_globals: Iterable = (),
                         check_integrity: bool = True):
    """Load a checkpoint file without running code from it.

    Local paths are read directly; other schemes (``http://``,
    ``s3://``, ...) are fetched with mmengine's file backends first (bytes,
    nothing unpickled), then read the same way.

    Args:
        filename (str): Path or URL; ``~`` is expanded.
        map_location (str | torch.device | callable, optional): As in
            :func:`torch.load`. Defaults to 'cpu'.
        unsafe_load (bool): Unpickle everything (``weights_only=False``),
            which runs any code the file names; only for trusted files.
            Defaults to False.
        extra_safe_globals (Iterable): More allowed globals for this load,
            e.g. :data:`REFERENCE_GLOBALS` for the reference
            implementations' checkpoints. Defaults to ().
        check_integrity (bool): Check the zip structure and CRCs first
            (:func:`check_zip_integrity`). Defaults to True.

    Returns:
        object: What the file holds (a dict for checkpoints).

    Raises:
        FileNotFoundError: No such local file.
        CorruptCheckpointError: Empty, truncated or damaged file.
        UnsafeCheckpointError: The file needs full unpickling and
            ``unsafe_load`` is False.
    """
    if not hasattr(torch.serialization, 'safe_globals'):
        raise RuntimeError(
            'mmrrsis reads checkpoints with torch.serialization.safe_globals'
            f', which torch {torch.__version__} does not have; install '
            'torch >= 2.5.')
    filename = str(filename)
    if '://' in filename:
        return _load_remote(filename, map_location, unsafe_load,
                            extra_safe_globals)
    filename = osp.expanduser(filename)
    if osp.isdir(filename):
        raise IsADirectoryError(
            f'{filename} is a directory, not a checkpoint file.')
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    if check_integrity:
        check_zip_integrity(filename)
    if unsafe_load:
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    allowed = SAFE_GLOBALS + list(extra_safe_globals)
    try:
        with torch.serialization.safe_globals(allowed):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise _refusal(filename, e, allowed) from None
    except (EOFError, RuntimeError) as e:
        if 'zip' in str(e) or isinstance(e, EOFError):
            raise CorruptCheckpointError(
                f'Cannot read the checkpoint {filename}: {e}') from e
        raise


def _load_remote(url: str, map_location, unsafe_load: bool,
                 extra_safe_globals: Iterable):
    """Fetch the bytes of ``url`` into a temporary file, then load that."""
    import tempfile

    from mmengine.fileio import get

    data = get(url)
    with tempfile.NamedTemporaryFile(suffix='.pth') as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            return load_checkpoint_file(
                tmp.name,
                map_location=map_location,
                unsafe_load=unsafe_load,
                extra_safe_globals=extra_safe_globals)
        except (UnsafeCheckpointError, CorruptCheckpointError) as e:
            raise type(e)(str(e).replace(tmp.name, url)) from None
