"""tools/model_converters/rmsin2mmrrsis.py: reads weights only, writes a
checkpoint that loads strictly (the key map:
tests/test_models/test_converters/test_rmsin.py)."""
import importlib.util
import os.path as osp

import pytest
import torch
from test_models.test_converters import reference_layouts as LAYOUTS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


randomised = LAYOUTS.randomised
rmsin_checkpoint = LAYOUTS.rmsin_checkpoint
tiny_rmsin = LAYOUTS.tiny_rmsin


def load_cli():
    return _load(
        osp.join(REPO, 'tools', 'model_converters', 'rmsin2mmrrsis.py'),
        'rmsin2mmrrsis')


def test_cli_reads_weights_only(tmp_path, capsys):
    cli = load_cli()
    source = randomised(tiny_rmsin())
    src = tmp_path / 'model_best_RMSIN.pth'
    torch.save(rmsin_checkpoint(source), src)
    dst = tmp_path / 'out' / 'rmsin.pth'
    cli.main([str(src), str(dst)])
    assert 'tensors written' in capsys.readouterr().out
    saved = torch.load(dst, weights_only=True)
    target = tiny_rmsin(seed=3)
    target.load_state_dict(saved['state_dict'], strict=True)
    torch.testing.assert_close(target.neck.reduce.weight,
                               source.neck.reduce.weight)


class _Payload:
    ran = []

    def __reduce__(self):
        return (_Payload.ran.append, ('ran',))


def test_cli_refuses_a_pickled_payload(tmp_path):
    cli = load_cli()
    checkpoint = rmsin_checkpoint(tiny_rmsin())
    checkpoint['args'] = _Payload()
    src = tmp_path / 'evil.pth'
    torch.save(checkpoint, src)
    with pytest.raises(SystemExit, match='Refusing to load'):
        cli.main([str(src), str(tmp_path / 'out.pth')])
    assert _Payload.ran == [] and not (tmp_path / 'out.pth').exists()
