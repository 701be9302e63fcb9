"""Progress records: written atomically, only valid for the same
settings."""
import os

from mmrrsis.apis.scene.progress import RunState, file_fingerprint


def test_record_belongs_to_its_settings(tmp_path):
    path = str(tmp_path / 'sub' / 'progress.json')
    state = RunState(path, dict(texts=['car'], crop=[64, 64]))
    assert state.load() is None
    state.save(rows_done=256, complete=False)
    assert state.load()['rows_done'] == 256
    assert os.listdir(tmp_path / 'sub') == ['progress.json']
    other = RunState(path, dict(texts=['tree'], crop=[64, 64]))
    assert other.load() is None
    with open(path, 'w') as f:
        f.write('{broken')
    assert state.load() is None


def test_file_fingerprint(tmp_path):
    assert file_fingerprint(None) is None
    assert file_fingerprint('http://x/y.pth') == dict(path='http://x/y.pth')
    path = tmp_path / 'a.bin'
    path.write_bytes(b'12345')
    print_ = file_fingerprint(str(path))
    assert print_['size'] == 5 and print_['path'] == str(path)
