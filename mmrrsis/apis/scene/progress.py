"""The progress records of scene runs: what lets an interrupted run (or
one process of a distributed run) resume after the rows it finished."""
import hashlib
import json
import os
import os.path as osp
from typing import Optional

from mmrrsis.utils import write_json_atomically


def file_fingerprint(path: Optional[str]) -> Optional[dict]:
    """Path, size and modification time of a file (None: no file)."""
    if path is None:
        return None
    path = str(path)
    if '://' in path or not osp.exists(path):
        return dict(path=path)
    stat = os.stat(path)
    return dict(
        path=osp.abspath(path), size=stat.st_size, mtime=stat.st_mtime_ns)


class RunState:
    """A progress record (a JSON file in the output folder).

    It holds a fingerprint of everything the outputs depend on (scene file,
    config, checkpoint, expressions, windows, blending, scaling, grid,
    precision; for one process's part also its rows) and how far the run
    got. A run with the same fingerprint continues from there; any
    difference starts over.

    Args:
        path (str): The JSON file.
        fingerprint (dict): What the outputs depend on (JSON-serialisable).
    """

    def __init__(self, path: str, fingerprint: dict) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.key = hashlib.sha1(
            json.dumps(fingerprint, sort_keys=True,
                       default=str).encode()).hexdigest()

    def load(self) -> Optional[dict]:
        """The saved record if it belongs to this run, else None."""
        if not osp.isfile(self.path):
            return None
        try:
            with open(self.path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        return record if record.get('key') == self.key else None

    def save(self, **fields) -> None:
        """Write the record atomically (a crash leaves the old one)."""
        os.makedirs(osp.dirname(self.path) or '.', exist_ok=True)
        write_json_atomically(
            self.path, dict(key=self.key, fingerprint=self.fingerprint,
                            **fields))


def run_fingerprint(job, source, plan, config: Optional[str],
                    weights: Optional[str], precision: str) -> dict:
    """What a scene run's outputs depend on; a run resumes only with the
    same (the scene, config and weights files, texts, window plan,
    precision, band scaling and range, grid).

    Args:
        job (SceneJob): The call's resolved arguments.
        source (SceneSource): The open scene.
        plan (WindowPlan): The window grid and blending.
        config (str, optional): The config file.
        weights (str, optional): The checkpoint file.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``.
    """
    return dict(
        scene=file_fingerprint(job.scene),
        config=file_fingerprint(config),
        weights=file_fingerprint(weights),
        texts=job.texts,
        crop_size=plan.crop,
        stride=plan.stride,
        blend=[plan.blend, plan.blend_floor],
        precision=precision,
        scaling=job.scaling.to_dict(),
        range=source.range.to_dict() if source.range else None,
        grid=[source.height, source.width])


__all__ = ['RunState', 'file_fingerprint', 'run_fingerprint']
