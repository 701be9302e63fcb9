"""Read the refer toolkit's ``refs(<split_by>).p`` without running code.

The refs file of RefCOCO, RefCOCO+, RefCOCOg and RRSIS-D is a pickle: a
list of dicts of plain values. A pickle can also name any importable
callable and call it while it is read (``__reduce__``), so a file from the
internet read with :func:`pickle.load` may run anything. Here only plain
data is rebuilt:

- ``dict``, ``list``, ``tuple``, ``str``, ``bytes``, ``int``, ``float``,
  ``bool`` and ``None`` (the pickle opcodes that make them need no
  callable);
- Python 3 ``bytes`` pickled with protocols 0-2 are written as a call of
  ``_codecs.encode(text, 'latin1')``: that one call is allowed, with a
  ``str`` and the latin1 codec only.

Any other callable the file names (``os.system``, ``builtins.eval``, a
class, ``set``, a numpy array) is refused before it is looked up: nothing
of the file runs, and the error names the file and the callable.

Python 2 pickles store text as byte strings; they are decoded as UTF-8
first and, when that fails, as latin1 (which never fails but turns
multi-byte UTF-8 characters into several wrong ones, hence the order).
"""
import io
import pickle
from typing import Any

_LATIN1 = ('latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1')


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a callable that is not plain data."""


def _latin1_encode(text: Any, encoding: str = 'utf-8') -> bytes:
    """``_codecs.encode`` as protocol 0-2 pickles use it for bytes."""
    if not isinstance(text, str) or str(encoding).lower() not in _LATIN1:
        raise UnsafePickleError(
            '_codecs.encode is allowed only as the pickled form of bytes '
            f"(a str and 'latin1'), got ({type(text).__name__}, "
            f'{encoding!r})')
    return text.encode('latin1')


class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds plain data only (see the module doc)."""

    def find_class(self, module: str, name: str):
        """Refuse every callable but the bytes constructor of protocol 2."""
        if (module, name) == ('_codecs', 'encode'):
            return _latin1_encode
        raise UnsafePickleError(
            f'it names the callable {module}.{name}; a refs file holds '
            'plain data only (dicts, lists, tuples, str, bytes, numbers, '
            'bool, None)')


def loads_plain(data: bytes, name: str = '<bytes>') -> Any:
    """Unpickle plain data; Python 2 text as UTF-8, latin1 as fallback.

    Args:
        data (bytes): The pickle's bytes.
        name (str): The file name, for error messages. Defaults to
            '<bytes>'.

    Returns:
        Any: The rebuilt object.

    Raises:
        UnsafePickleError: The pickle names a callable (it would run code
            when read by a plain unpickler); nothing of it has run.
        ValueError: The bytes are not a readable pickle.
    """
    last_error = None
    for encoding in ('utf-8', 'latin1'):
        try:
            return PlainDataUnpickler(
                io.BytesIO(data), encoding=encoding).load()
        except UnicodeDecodeError as e:  # a Python 2 str that is not UTF-8
            last_error = e
            continue
        except UnsafePickleError as e:
            raise UnsafePickleError(
                f'Refused to read {name}: {e}. Nothing of the file was '
                'run; if you trust it, convert it to plain data '
                'yourself.') from None
        except Exception as e:  # truncated, not a pickle, ...
            raise ValueError(f'Cannot unpickle {name}: {e}') from e
    raise ValueError(f'Cannot decode the text of {name}: {last_error}')
