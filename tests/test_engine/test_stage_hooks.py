"""EpochSnapshotHook and BestCheckpointLinkHook (DiCoR's stage hand-over;
a whole run is in tests/test_integration/test_dicor_pipeline.py)."""
import os
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from mmrrsis.engine import BestCheckpointLinkHook, EpochSnapshotHook


class FakeRunner:

    def __init__(self, work_dir, epoch=0, max_epochs=5):
        self.work_dir = str(work_dir)
        self.epoch = epoch
        self.max_epochs = max_epochs
        self.saved = []
        self.warnings = []
        self.logger = SimpleNamespace(
            info=lambda m: None, warning=self.warnings.append)
        self.message_hub = MessageHub.get_instance(f'stage-hooks-{id(self)}')

    def save_checkpoint(self, out_dir, filename, **kwargs):
        self.saved.append((out_dir, filename, kwargs))


def test_snapshots_at_listed_epochs_weights_only(tmp_path):
    hook = EpochSnapshotHook(epochs=[2, 4, 9])
    runner = FakeRunner(tmp_path)
    hook.before_train(runner)
    assert 'epochs [9] are after the last epoch' in runner.warnings[0]
    for epoch in range(5):
        runner.epoch = epoch
        hook.after_train_epoch(runner)
    assert [s[1] for s in runner.saved] == [
        'snapshot_epoch_2.pth', 'snapshot_epoch_4.pth'
    ]
    assert runner.saved[0][2] == dict(
        save_optimizer=False, save_param_scheduler=False)
    with pytest.raises(ValueError, match='positive epoch numbers'):
        EpochSnapshotHook(epochs=[0, 3])


def test_best_link_follows_the_best_checkpoint(tmp_path):
    hook = BestCheckpointLinkHook()
    runner = FakeRunner(tmp_path)
    hook.after_val_epoch(runner)  # nothing saved yet: no link
    assert not osp.lexists(tmp_path / 'best.pth')
    for epoch in (1, 3):
        best = tmp_path / f'best_oIoU_epoch_{epoch}.pth'
        best.write_text(str(epoch))
        runner.message_hub.update_info('best_ckpt', str(best))
        hook.after_val_epoch(runner)
        assert os.readlink(tmp_path / 'best.pth') == best.name
        assert (tmp_path / 'best.pth').read_text() == str(epoch)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'best.pth', 'best_oIoU_epoch_1.pth', 'best_oIoU_epoch_3.pth'
    ]
