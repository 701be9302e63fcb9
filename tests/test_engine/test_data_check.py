"""Missing dataset folders are reported before the model is built."""
import pytest
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel

from mmrrsis.engine import RRSISRunner, check_data_roots
from mmrrsis.registry import DATASETS, MODELS

BUILT = []


@DATASETS.register_module(force=True)
class _RealDataForCheck(BaseDataset):
    DATA_HINT = 'Download it from EXAMPLE and unpack it there.'

    def load_data_list(self):
        return []


@DATASETS.register_module(force=True)
class _GeneratedDataForCheck(_RealDataForCheck):
    generates_missing_data = True


@MODELS.register_module(force=True)
class _RecordingModel(BaseModel):

    def __init__(self):
        super().__init__()
        BUILT.append(True)

    def forward(self, *args, **kwargs):
        return {}


def make_cfg(tmp_path, dataset_type, root):
    loader = dict(
        batch_size=1,
        dataset=dict(type=dataset_type, data_root=str(root)),
        sampler=dict(type='DefaultSampler', shuffle=False))
    return Config(
        dict(
            default_scope='mmrrsis',
            model=dict(type='_RecordingModel'),
            work_dir=str(tmp_path / 'work'),
            train_dataloader=loader,
            val_dataloader=dict(
                loader,
                # a wrapped dataset is looked into as well
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[dict(type=dataset_type,
                                   data_root=str(root))])),
        ))


def test_missing_root_names_key_path_and_hint(tmp_path):
    cfg = make_cfg(tmp_path, '_RealDataForCheck', tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError) as err:
        check_data_roots(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.data_root' in msg
    assert str(tmp_path / 'nowhere') in msg
    assert 'Download it from EXAMPLE' in msg


def test_wrapped_dataset_is_checked(tmp_path):
    cfg = make_cfg(tmp_path, '_RealDataForCheck', tmp_path / 'nowhere')
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'datasets\[0\]'):
        check_data_roots(cfg)


def test_present_or_generated_roots_pass(tmp_path):
    check_data_roots(make_cfg(tmp_path, '_RealDataForCheck', tmp_path))
    check_data_roots(
        make_cfg(tmp_path, '_GeneratedDataForCheck', tmp_path / 'later'))


def runner_cfg(tmp_path, root):
    cfg = make_cfg(tmp_path, '_RealDataForCheck', root)
    cfg.pop('val_dataloader')
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
    return cfg


def test_runner_fails_before_building_the_model(tmp_path):
    BUILT.clear()
    with pytest.raises(FileNotFoundError):
        RRSISRunner.from_cfg(runner_cfg(tmp_path, tmp_path / 'nowhere'))
    assert BUILT == []
    # with the data present the same config builds the model
    RRSISRunner.from_cfg(runner_cfg(tmp_path, tmp_path))
    assert BUILT == [True]
