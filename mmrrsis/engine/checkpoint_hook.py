"""mmengine's CheckpointHook, made safe to kill and exact to resume."""
import glob
import os
import os.path as osp
from contextlib import contextmanager
from typing import List, Optional

from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook

from mmrrsis.registry import HOOKS

from .resume_state import get_rng_state, plain_message_hub, set_rng_state

#: Name pattern of the temporary files checkpoints are written to first
#: (``RRSISRunner.save_checkpoint``): ``.<name>.tmp-<pid>``.
TMP_PATTERN = '.*.tmp-*'


class _RemoveLater:
    """A file backend whose ``remove``/``rmtree`` only record the path."""

    def __init__(self, backend, pending: List[str]) -> None:
        self._backend = backend
        self._pending = pending

    def remove(self, path) -> None:
        self._pending.append(str(path))

    def rmtree(self, path) -> None:
        self._pending.append(str(path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class RRSISCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` for runs that get killed.

    Same arguments and files as mmengine's hook; what differs:

    - **nothing is lost by a kill**: mmengine deletes the oldest checkpoint
      (beyond ``max_keep_ckpts``) and the previous best one *before*
      writing the new one, so a kill during the save (with
      ``max_keep_ckpts=1``: every time) left no checkpoint and a
      ``last_checkpoint`` naming a missing file. Here old files are deleted
      only after the new one is complete and in place
      (:class:`~mmrrsis.engine.RRSISRunner` writes it to a temporary file
      and moves it with ``os.replace``) and ``last_checkpoint`` names it;
    - **loadable without running code**: the message hub's
      ``HistoryBuffer`` objects are stored as plain tensors
      (:func:`~mmrrsis.engine.resume_state.plain_message_hub`), so the
      checkpoint loads with ``torch.load(weights_only=True)``;
    - **exact resume**: each checkpoint holds ``resume_state``: the random
      states of every rank (torch, CUDA, numpy, Python), the world size and
      the epoch length, which :class:`~mmrrsis.engine.RRSISRunner` and
      :class:`~mmrrsis.engine.RRSISEpochBasedTrainLoop` restore;
    - **validation leaves the training randomness alone**: the random
      states are put back after each validation, so a resumed run (which
      does not repeat the validation that followed its checkpoint) draws
      the same numbers as an uninterrupted one.

    ``max_keep_ckpts=1`` works, but leaves nothing to fall back to if the
    newest file is damaged later; a warning says so. The default runtime
    keeps 3.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending: Optional[List[str]] = None
        self._resume_state: Optional[dict] = None
        self._val_rng: Optional[dict] = None

    def before_train(self, runner) -> None:
        """As mmengine; warn about a single kept checkpoint and delete
        temporary files left by a killed save."""
        super().before_train(runner)
        if self.max_keep_ckpts == 1:
            runner.logger.warning(
                'CheckpointHook keeps only 1 checkpoint (max_keep_ckpts=1): '
                'a kill cannot lose it, but if it is damaged later there is '
                'no earlier one for --resume to fall back to; keep 2 or '
                'more.')
        if is_main_process() and '://' not in str(self.out_dir):
            for path in glob.glob(osp.join(self.out_dir, TMP_PATTERN)):
                runner.logger.warning(
                    f'Deleting {path}, left by a save that was interrupted.')
                os.remove(path)

    @contextmanager
    def _remove_after_save(self):
        """Collect the deletions of mmengine's hook; do them after the save
        succeeded (none if it raised)."""
        if self._pending is not None:  # nested: the outer one deletes
            yield
            return
        self._pending = []
        backend = self.file_backend
        self.file_backend = _RemoveLater(backend, self._pending)
        try:
            yield
        finally:
            self.file_backend = backend
            pending, self._pending = self._pending, None
        keep = {self.last_ckpt, getattr(self, 'best_ckpt_path', None)}
        keep |= set(getattr(self, 'best_ckpt_path_dict', {}).values())
        if not is_main_process():
            return
        for path in pending:
            if path in keep:  # written again under the same name
                continue
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Gather every rank's random states, save, then delete old files.
        """
        states = [get_rng_state()]
        if get_world_size() > 1:  # every rank comes here, rank 0 saves
            states = all_gather_object(states[0])
        self._resume_state = dict(
            rng=states,
            world_size=len(states),
            epoch_length=len(runner.train_dataloader))
        try:
            with self._remove_after_save():
                super()._save_checkpoint_with_step(runner, step, meta)
        finally:
            self._resume_state = None

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """As mmengine, but the previous best is deleted after the save."""
        with self._remove_after_save():
            super()._save_best_checkpoint(runner, metrics)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the message hub as plain data, add ``resume_state``."""
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = plain_message_hub(
                checkpoint['message_hub'])
        if self._resume_state is not None:
            checkpoint['resume_state'] = self._resume_state

    def before_val_epoch(self, runner) -> None:
        """Remember the random states before validating."""
        self._val_rng = get_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Put the random states back, then save the best checkpoint."""
        if self._val_rng is not None:
            set_rng_state(self._val_rng)
            self._val_rng = None
        super().after_val_epoch(runner, metrics)
