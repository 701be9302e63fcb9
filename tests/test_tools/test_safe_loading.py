"""Every command-line entry point refuses a checkpoint that would run code
(and the code never runs): tools/test.py, tools/train.py (load_from,
--resume FILE, --resume), the LAVT converter and the language ablation."""
import importlib.util
import os.path as osp

import pytest
import torch

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def load_module(*parts):
    path = osp.join(ROOT, *parts)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(parts[-1])[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def options(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=4, size=64, seed=3)
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]


@pytest.fixture
def evil(tmp_path, payload_checkpoint):
    """A checkpoint of the tiny LAVT's weights plus a payload."""
    from mmrrsis.apis import init_model
    model = init_model(LAVT_TINY, device='cpu')
    return payload_checkpoint(
        tmp_path / 'evil.pth',
        dict(state_dict=model.state_dict(), optimizer={}))


def test_test_tool(tmp_path, options, evil, payload_checkpoint):
    tool = load_module('tools', 'test.py')
    with pytest.raises(SystemExit, match='Refusing to load .*evil.pth'):
        tool.main([LAVT_TINY, evil, '--work-dir', str(tmp_path / 'w'),
                   '--cfg-options', *options])
    assert not payload_checkpoint.marker.exists()


def test_train_tool_load_from_and_resume(tmp_path, options, evil,
                                         payload_checkpoint):
    tool = load_module('tools', 'train.py')
    work_dir = tmp_path / 'w'
    base = [LAVT_TINY, '--work-dir', str(work_dir)]
    with pytest.raises(SystemExit, match='Refusing to load'):
        tool.main(base + ['--cfg-options', *options, f'load_from={evil}'])
    with pytest.raises(SystemExit, match='Refusing to load'):
        tool.main(base + ['--resume', evil, '--cfg-options', *options])
    # automatic resume: the only checkpoint of the work dir is the payload
    work_dir.mkdir(exist_ok=True)
    target = work_dir / 'epoch_1.pth'
    target.write_bytes(open(evil, 'rb').read())
    (work_dir / 'last_checkpoint').write_text(str(target))
    with pytest.raises(SystemExit, match='No checkpoint .* can be resumed'):
        tool.main(base + ['--resume', '--cfg-options', *options])
    assert not payload_checkpoint.marker.exists()


def test_lavt_converter(tmp_path, payload_checkpoint):
    tool = load_module('tools', 'model_converters', 'lavt2mmrrsis.py')
    src = payload_checkpoint(
        tmp_path / 'lavt.pth', dict(model={'x': torch.zeros(1)}), key='args')
    with pytest.raises(SystemExit, match='Refusing to load'):
        tool.main([src, str(tmp_path / 'out.pth')])
    with pytest.raises(SystemExit, match='Refusing to load'):
        tool.main([src, str(tmp_path / 'out.pth'), '--bert', src])
    assert not payload_checkpoint.marker.exists()
    assert not (tmp_path / 'out.pth').exists()


def test_language_ablation(tmp_path, options, evil, payload_checkpoint):
    tool = load_module('tools', 'analysis_tools', 'language_ablation.py')
    with pytest.raises(SystemExit, match='Refusing to load'):
        tool.main([LAVT_TINY, evil, '--split', 'val', '--work-dir',
                   str(tmp_path / 'w'), '--cfg-options', *options])
    assert not payload_checkpoint.marker.exists()
