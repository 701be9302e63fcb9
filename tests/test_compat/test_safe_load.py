"""Checkpoint files are read without running code from them."""
import io
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

import mmrrsis  # noqa: F401
from mmrrsis.compat import (
    REFERENCE_GLOBALS,
    CorruptCheckpointError,
    UnsafeCheckpointError,
    check_zip_integrity,
    load_checkpoint_file,
)


def test_payload_is_refused_and_never_runs(tmp_path, payload_checkpoint):
    path = payload_checkpoint(
        tmp_path / 'evil.pth', dict(state_dict={'w': torch.ones(2)}))
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert path in message
    assert 'builtins.open' in message or 'io.open' in message  # why
    assert '--unsafe-load' in message and 'unsafe_load=True' in message
    assert not payload_checkpoint.marker.exists()


def test_unsafe_load_is_the_only_way_in(tmp_path, payload_checkpoint):
    """The payload is real: the explicit opt-in runs it."""
    path = payload_checkpoint(tmp_path / 'evil.pth')
    load_checkpoint_file(path, unsafe_load=True)
    assert payload_checkpoint.marker.exists()


def test_import_changes_no_global_loader(tmp_path, payload_checkpoint):
    """``import mmrrsis`` registers nothing: mmengine's local loader and
    torch.load keep their defaults (weights_only=True refuses it too)."""
    path = payload_checkpoint(tmp_path / 'evil.pth')
    loader = CheckpointLoader._get_checkpoint_loader(path)
    assert loader.__module__ == 'mmengine.runner.checkpoint'
    with pytest.raises(pickle.UnpicklingError):
        CheckpointLoader.load_checkpoint(path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not payload_checkpoint.marker.exists()


def test_numpy_metadata_loads(tmp_path):
    """What mmengine's metadata holds besides tensors: numpy arrays,
    dtypes and scalars."""
    data = dict(
        state_dict={'w': torch.arange(3.)},
        meta=dict(
            eta=np.float64(1.5),
            count=np.int64(3),
            palette=np.array([[0, 0, 0], [255, 0, 0]], dtype=np.uint8),
            dtype=np.dtype('float32')))
    path = str(tmp_path / 'np.pth')
    torch.save(data, path)
    loaded = load_checkpoint_file(path)
    assert loaded['meta']['eta'] == 1.5
    assert loaded['meta']['palette'].tolist() == [[0, 0, 0], [255, 0, 0]]
    assert loaded['meta']['dtype'] == np.float32
    torch.testing.assert_close(loaded['state_dict']['w'], torch.arange(3.))


def test_reference_args_need_the_reference_allowlist(tmp_path):
    """LAVT/RMSIN save their argparse.Namespace: allowed only when asked."""
    import argparse
    path = str(tmp_path / 'lavt.pth')
    torch.save(dict(model={}, args=argparse.Namespace(lr=5e-5)), path)
    with pytest.raises(UnsafeCheckpointError, match='argparse.Namespace'):
        load_checkpoint_file(path)
    loaded = load_checkpoint_file(path, extra_safe_globals=REFERENCE_GLOBALS)
    assert loaded['args'].lr == 5e-5


def _flip_first_float(path, out):
    """Flip an exponent bit of the first weight (1.0 -> inf) in place."""
    data = bytearray(open(path, 'rb').read())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = next(i for i in archive.infolist()
                    if i.filename.endswith('/data/0'))
    start = info.header_offset
    name_len, extra_len = struct.unpack('<HH', data[start + 26:start + 30])
    offset = start + 30 + name_len + extra_len
    data[offset + 3] ^= 0x40
    open(out, 'wb').write(bytes(data))


def test_damaged_files_are_reported(tmp_path):
    good = str(tmp_path / 'good.pth')
    torch.save({'w': torch.ones(1000)}, good)
    check_zip_integrity(good)  # does not raise

    flipped = str(tmp_path / 'flipped.pth')
    _flip_first_float(good, flipped)
    # torch itself loads the changed value silently ...
    assert torch.isinf(torch.load(flipped, weights_only=True)['w'][0])
    # ... the CRC check does not
    with pytest.raises(CorruptCheckpointError, match='CRC-32'):
        load_checkpoint_file(flipped)

    truncated = str(tmp_path / 'truncated.pth')
    open(truncated, 'wb').write(open(good, 'rb').read()[:2000])
    with pytest.raises(CorruptCheckpointError, match='not a complete'):
        load_checkpoint_file(truncated)

    empty = str(tmp_path / 'empty.pth')
    open(empty, 'wb').close()
    with pytest.raises(CorruptCheckpointError, match='empty'):
        load_checkpoint_file(empty)

    with pytest.raises(FileNotFoundError, match='not found'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))
    with pytest.raises(IsADirectoryError, match='directory'):
        load_checkpoint_file(str(tmp_path))
