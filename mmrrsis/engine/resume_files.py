"""Checkpoint files in a work dir: found for resuming (they are written
with :func:`mmrrsis.utils.write_atomically`).

- :func:`find_resumable`: the newest checkpoint of a work dir that loads,
  starting with the one ``last_checkpoint`` names, with the reason each
  skipped one was skipped.
"""
import glob
import os.path as osp
from typing import Callable, List, Optional, Tuple

#: Checkpoints written without the optimizer and scheduler (the hook's
#: best ones) cannot continue a run.
NOT_RESUMABLE_PREFIXES = ('best_', )


class ResumeError(RuntimeError):
    """No checkpoint of the work dir can be resumed."""


def resume_candidates(work_dir: str) -> Tuple[List[str], List[str]]:
    """Checkpoints of ``work_dir`` that could continue a run, best first.

    The one ``last_checkpoint`` names, then every other ``*.pth`` (not the
    ``best_*`` ones) from the newest to the oldest.

    Returns:
        tuple[list[str], list[str]]: The paths, and notes on a
        ``last_checkpoint`` that is empty or names a missing file.
    """
    notes = []
    paths = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if not named:
            notes.append(f'{pointer} is empty')
        elif not osp.isfile(named):
            notes.append(f'{pointer} names {named}, which does not exist')
        else:
            paths.append(osp.abspath(named))
    others = [
        osp.abspath(p) for p in glob.glob(osp.join(work_dir, '*.pth'))
        if not osp.basename(p).startswith(NOT_RESUMABLE_PREFIXES)
    ]
    others.sort(key=lambda p: (osp.getmtime(p), p), reverse=True)
    paths += [p for p in others if p not in paths]
    return paths, notes


def find_resumable(work_dir: str, load: Callable[[str], dict]
                   ) -> Tuple[Optional[str], Optional[dict], List[str]]:
    """The newest checkpoint of ``work_dir`` that ``load`` reads.

    Args:
        work_dir (str): The run's folder.
        load (callable): Reads a path, returns the checkpoint dict or
            raises.

    Returns:
        tuple: (path, checkpoint, skipped): the first candidate of
        :func:`resume_candidates` that loads and holds ``meta`` with the
        epoch and iteration, and ``optimizer``; ``skipped`` says, one line
        each, what was passed over and why. (None, None, skipped) when
        none loads.
    """
    paths, skipped = resume_candidates(work_dir)
    for path in paths:
        try:
            checkpoint = load(path)
        except Exception as e:  # every reason a file cannot be used
            skipped.append(f'{path}: {type(e).__name__}: {e}')
            continue
        meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else 0
        if not isinstance(meta, dict) or 'epoch' not in meta or \
                'iter' not in meta or 'optimizer' not in checkpoint:
            skipped.append(f'{path}: not a training checkpoint (no meta '
                           'epoch/iter or no optimizer state)')
            continue
        return path, checkpoint, skipped
    return None, None, skipped
