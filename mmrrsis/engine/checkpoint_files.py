"""Checkpoint files in a work dir: written atomically, found for resuming.

- :func:`write_atomically`: write to a temporary file in the same folder,
  flush it to disk, then ``os.replace`` it into place, so a kill at any
  moment leaves either the old file or the complete new one;
- :func:`find_resumable`: the newest checkpoint of a work dir that loads,
  starting with the one ``last_checkpoint`` names, with the reason each
  skipped one was skipped.
"""
import glob
import os
import os.path as osp
from typing import Callable, List, Optional, Tuple

#: Checkpoints written without the optimizer and scheduler (the hook's
#: best ones) cannot continue a run.
NOT_RESUMABLE_PREFIXES = ('best_', )


class ResumeError(RuntimeError):
    """No checkpoint of the work dir can be resumed."""


def _fsync(path: str) -> None:
    """Flush a file (or a folder's entries) to disk; best effort."""
    flags = os.O_RDONLY
    if osp.isdir(path):
        flags |= getattr(os, 'O_DIRECTORY', 0)
    try:
        fd = os.open(path, flags)
    except OSError:  # e.g. folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(out_dir: str, filename: str,
                     write: Callable[[str], None]) -> str:
    """Have ``write`` create ``out_dir/filename`` without a partial file.

    Args:
        out_dir (str): A local folder.
        filename (str): The final name.
        write (callable): Called with a temporary file name in ``out_dir``
            (``.<filename>.tmp-<pid>``) that it must create.

    Returns:
        str: The final path.
    """
    final = osp.join(out_dir, filename)
    tmp_name = f'.{osp.basename(filename)}.tmp-{os.getpid()}'
    tmp = osp.join(osp.dirname(final), tmp_name)
    try:
        write(osp.relpath(tmp, out_dir))
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync(osp.dirname(final))
    return final


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
