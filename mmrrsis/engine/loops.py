"""An epoch-based training loop that resumes inside an epoch exactly."""
from typing import Optional

from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from mmrrsis.registry import LOOPS

from .resume_state import set_rng_state


@LOOPS.register_module()
class RRSISEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop``, resumable at any iteration.

    mmengine's loop, resumed from a checkpoint written in the middle of an
    epoch (``CheckpointHook(by_epoch=False)``), starts that epoch again from
    its first batch while counting iterations on, so the run trains longer
    than configured and on other batches. This loop, told by
    :class:`~mmrrsis.engine.RRSISRunner` how many batches of the epoch were
    done, passes over them (they are loaded, not trained on: the sampler
    order of the epoch and every data worker's random state stay those of
    the uninterrupted run) and goes on with the next one.

    It also restores the saved random states (torch, CUDA, numpy,
    Python) at the point where the uninterrupted run was when it saved:
    before the epoch's data iterator starts (checkpoints at the end of an
    epoch), or after the batches passed over (inside an epoch). With
    ``randomness.deterministic=True`` a resumed run then repeats the
    uninterrupted one exactly (drop-path, dropout, random augmentation).

    Arguments are those of :class:`mmengine.runner.EpochBasedTrainLoop`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._skip_batches = 0
        self._rng_state: Optional[dict] = None

    def resume_inside_epoch(self, batches_done: int,
                            rng_state: Optional[dict] = None) -> None:
        """Continue the current epoch after ``batches_done`` batches.

        Args:
            batches_done (int): Batches of the current epoch already
                trained on (0 at an epoch boundary).
            rng_state (dict, optional): Random states to restore (from
                :func:`~mmrrsis.engine.resume_state.get_rng_state`).
                Defaults to None (left as they are).
        """
        num = len(self.dataloader)
        if not 0 <= batches_done <= num:
            raise ValueError(f'batches_done={batches_done} is outside an '
                             f'epoch of {num} batches')
        self._skip_batches = batches_done
        self._rng_state = rng_state

    def _restore_rng(self) -> None:
        state, self._rng_state = self._rng_state, None
        if state is None:
            return
        for problem in set_rng_state(state):
            print_log(f'Resume: {problem}; those random states start anew.',
                      logger='current', level='WARNING')

    def run_epoch(self) -> None:
        """Iterate one epoch (the rest of it after a resume)."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        skip, self._skip_batches = self._skip_batches, 0
        if skip:
            print_log(
                f'Resuming inside epoch {self._epoch + 1}: passing over the '
                f'{skip} batches of it trained before the checkpoint.',
                logger='current')
        else:
            self._restore_rng()  # before the data iterator draws its seed
        for idx, data_batch in enumerate(self.dataloader):
            if idx < skip:
                if idx == skip - 1:
                    self._restore_rng()  # before the next batch is loaded
                continue
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
