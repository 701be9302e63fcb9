"""The refs pickle is read without running code, by every entry point."""
import importlib.util
import os.path as osp
import pickle
import shutil

import published_formats as pf
import pytest
from mmengine import Config

from mmrrsis.datasets import RRSISDDataset, UnsafePickleError, loads_plain
from mmrrsis.doctor import check_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class _Payload:
    """Unpickled by a plain unpickler, it creates the file ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


def _evil_refs(marker):
    return [dict(ref_id=1, ann_id=101, image_id=1, split='train',
                 sentences=[dict(raw='x', sent='x', sent_id=0)],
                 category_id=_Payload(marker))]


def test_the_payload_is_live(tmp_path):
    """Control: a plain unpickler runs it (so the tests below can fail)."""
    marker = str(tmp_path / 'ran')
    pickle.loads(pickle.dumps(_evil_refs(marker)))
    assert osp.exists(marker)


@pytest.mark.parametrize('protocol', [0, 2, pickle.HIGHEST_PROTOCOL])
def test_plain_data_round_trips(protocol):
    data = [dict(a=1, b=[1.5, None, True], c=('t', b'\x00\xff'), d='caf\u00e9',
                 e=-2**40)]
    assert loads_plain(pickle.dumps(data, protocol=protocol)) == data
    py2 = [dict(a=1, b=[1.5, None, True], c=('t', 70000), d='caf\u00e9')]
    assert loads_plain(pf.python2_pickle(py2)) == py2


@pytest.mark.parametrize('protocol', [0, 2, pickle.HIGHEST_PROTOCOL])
def test_callables_are_refused(tmp_path, protocol):
    marker = str(tmp_path / 'ran')
    data = pickle.dumps(_evil_refs(marker), protocol=protocol)
    with pytest.raises(UnsafePickleError, match='io.open|builtins.open') as e:
        loads_plain(data, 'refs(unc).p')
    assert 'refs(unc).p' in str(e.value) and 'Nothing of the file' in str(
        e.value)
    assert not osp.exists(marker)
    for other in ({1, 2}, frozenset([3])):
        with pytest.raises(UnsafePickleError):
            loads_plain(pickle.dumps(other, protocol=2))
    # the bytes constructor of protocol 2, with another codec
    import codecs
    sneaky = pickle.dumps(codecs.encode, protocol=2)[:-1]  # a GLOBAL
    with pytest.raises((UnsafePickleError, ValueError)):
        loads_plain(sneaky + b'X\x01\x00\x00\x00aX\x05\x00\x00\x00rot13'
                    b'\x86R.')


def test_not_a_pickle():
    with pytest.raises(ValueError, match='Cannot unpickle x.p'):
        loads_plain(b'not a pickle', 'x.p')


@pytest.fixture
def evil_copy(rrsisd_copy, tmp_path):
    """The RRSIS-D copy with a refs file that carries a payload."""
    src, _ = rrsisd_copy
    root = str(tmp_path / 'data')
    shutil.copytree(src, root)
    marker = str(tmp_path / 'payload_ran')
    with open(osp.join(root, 'rrsisd', 'refs(unc).p'), 'wb') as f:
        pickle.dump(_evil_refs(marker), f, protocol=2)
    yield root, marker
    assert not osp.exists(marker), 'the payload ran'


def _tool(name):
    path = osp.join(REPO, 'tools', 'analysis_tools', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_refused_by_the_dataset(evil_copy):
    root, marker = evil_copy
    with pytest.raises(UnsafePickleError, match='refs\\(unc\\).p'):
        RRSISDDataset(data_root=root)
    assert not osp.exists(marker)


def test_refused_by_the_doctor(evil_copy, configs_dir):
    root, marker = evil_copy
    cfg = Config.fromfile(osp.join(configs_dir, 'rrsisd.py'))
    for loader in ('train', 'val', 'test'):
        cfg[f'{loader}_dataloader'].dataset.data_root = root
    report = check_dataset(cfg, nproc=1, show_progress=False)
    assert not report['usable']
    errors = [e for e in report['errors'] if e['kind'] == 'cannot_build']
    assert len(errors) == 3
    assert all('UnsafePickleError' in e['message'] and 'refs(unc).p' in
               e['message'] for e in errors)
    assert not osp.exists(marker)


def test_refused_by_dataset_stats_and_browse(evil_copy, configs_dir,
                                             tmp_path):
    root, marker = evil_copy
    config = osp.join(configs_dir, 'rrsisd.py')
    with pytest.raises(UnsafePickleError):
        _tool('dataset_stats').main(
            [config, '--data-root', root, '--quiet', '--splits', 'train'])
    with pytest.raises(UnsafePickleError):
        _tool('browse_dataset').main(
            [config, '--data-root', root, '--output-dir',
             str(tmp_path / 'browse')])
    assert not osp.exists(marker)
