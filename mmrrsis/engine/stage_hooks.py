"""Hooks that let one training stage hand its weights to the next: weight
snapshots at chosen epochs and a fixed name for the best checkpoint."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmrrsis.registry import HOOKS


@HOOKS.register_module()
class EpochSnapshotHook(Hook):
    """Save the model's weights after the listed epochs.

    DiCoR builds its prompt bank from snapshots of the coarse model taken
    after epochs 10, 15, 20, 30 and 39; this hook writes them as
    ``snapshot_epoch_{N}.pth`` (weights and meta only: no optimizer or
    scheduler state, which the bank does not need) in the work dir, next
    to the regular checkpoints, which it does not affect. Epochs count
    from 1 (``N`` is the epoch just finished, as in ``epoch_N.pth``).

    Args:
        epochs (Sequence[int]): Epochs after which to save.
        filename_tmpl (str): File name, ``{}`` is the epoch. Defaults to
            ``'snapshot_epoch_{}.pth'``.
        out_dir (str, optional): Folder. Defaults to the work dir.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 epochs: Sequence[int],
                 filename_tmpl: str = 'snapshot_epoch_{}.pth',
                 out_dir: Optional[str] = None) -> None:
        self.epochs = sorted({int(e) for e in epochs})
        if not self.epochs or self.epochs[0] < 1:
            raise ValueError(f'EpochSnapshotHook: epochs must be positive '
                             f'epoch numbers (from 1), got {list(epochs)}.')
        self.filename_tmpl = filename_tmpl
        self.out_dir = out_dir

    def before_train(self, runner) -> None:
        """Say which epochs are beyond the run."""
        late = [e for e in self.epochs if e > runner.max_epochs]
        if late:
            runner.logger.warning(
                f'EpochSnapshotHook: epochs {late} are after the last epoch '
                f'({runner.max_epochs}); no snapshot is written for them.')

    def after_train_epoch(self, runner) -> None:
        """Save the weights when the finished epoch is listed."""
        epoch = runner.epoch + 1
        if epoch not in self.epochs:
            return
        out_dir = self.out_dir or runner.work_dir
        filename = self.filename_tmpl.format(epoch)
        runner.save_checkpoint(
            out_dir,
            filename,
            save_optimizer=False,
            save_param_scheduler=False)
        runner.logger.info(
            f'Snapshot of epoch {epoch} saved: {osp.join(out_dir, filename)}')


@HOOKS.register_module()
class BestCheckpointLinkHook(Hook):
    """Keep ``best.pth`` in the work dir pointing at the best checkpoint.

    The checkpoint hook names the best checkpoint after its epoch
    (``best_oIoU_epoch_12.pth``); a later stage's ``load_from`` needs a
    name known in advance. After each validation this hook points a
    relative symbolic link ``link_name`` at the current best file (made
    under a temporary name and moved into place, so a reader sees the old
    link or the new one).

    Args:
        link_name (str): Defaults to ``'best.pth'``.
    """

    priority = 'LOWEST'

    def __init__(self, link_name: str = 'best.pth') -> None:
        self.link_name = link_name

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Point the link at the best checkpoint, if any."""
        info = runner.message_hub.runtime_info
        best = info.get('best_ckpt')
        if not best or not is_main_process() or not osp.isfile(best):
            return
        link = osp.join(osp.dirname(best), self.link_name)
        target = osp.basename(best)
        if osp.islink(link) and os.readlink(link) == target:
            return
        tmp = link + f'.tmp-{os.getpid()}'
        if osp.lexists(tmp):
            os.remove(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, link)


__all__ = ['BestCheckpointLinkHook', 'EpochSnapshotHook']
