"""Fixtures shared by every test folder."""
import pytest
import torch


class _Payload:
    """Unpickling this calls ``open(marker, 'w')``: code named by the file.
    """

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


@pytest.fixture
def payload_checkpoint(tmp_path):
    """Write checkpoints that create a marker file if they are unpickled.

    ``write(path, checkpoint=None, key='meta')`` saves ``checkpoint`` (a
    dict; empty by default) with a payload object added under
    ``checkpoint[key]['note']`` and returns the path; ``write.marker`` is
    the file the payload would create.
    """
    marker = tmp_path / 'PAYLOAD_RAN'

    def write(path, checkpoint=None, key='meta'):
        checkpoint = dict(checkpoint or {})
        holder = dict(checkpoint.get(key) or {})
        holder['note'] = _Payload(str(marker))
        checkpoint[key] = holder
        torch.save(checkpoint, str(path))
        return str(path)

    write.marker = marker
    return write
