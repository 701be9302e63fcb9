"""A scene run's parts: each process predicts its rows of the model grid
into a part of the outputs (resumable on its own), then the first process
assembles the parts into the final rasters.

One process is one part, so one process and several write the final
files the same way (:func:`~.write.assemble`, strip by strip, top to
bottom): their bytes are identical.
"""
import os.path as osp
import shutil
from dataclasses import dataclass
from typing import Callable, List, Optional

from mmengine.utils import mkdir_or_exist

from mmrrsis.datasets.band_scaling import BandScaling

from .predict import ProgressFn, WindowPlan, run_windows, split_rows
from .progress import RunState
from .source import SceneSource
from .write import (
    NODATA,
    SceneOutputs,
    StripWriter,
    assemble,
    map_back,
    output_names,
    raster_profile,
    to_probabilities,
    to_rasters,
)


@dataclass
class SceneJob:
    """One call's settings (what :meth:`SceneInferencer.__call__` got,
    checked) and the files they name."""
    scene: str
    texts: List[str]
    out_dir: str
    scaling: BandScaling
    gsd: Optional[float]
    resume: bool
    progress: Optional[ProgressFn]

    @property
    def stem(self) -> str:
        return osp.splitext(osp.basename(self.scene))[0]

    @property
    def masks(self) -> List[str]:
        return [osp.join(self.out_dir, n['mask'])
                for n in output_names(self.stem, self.texts)]

    @property
    def scores(self) -> List[str]:
        return [osp.join(self.out_dir, n['score'])
                for n in output_names(self.stem, self.texts)]

    @property
    def parts_dir(self) -> str:
        return osp.join(self.out_dir, f'.{self.stem}_parts')

    def part_files(self, resampled: bool, rank: int,
                   world: int) -> List[str]:
        """The files of one process's part: masks and scores, or the
        probabilities of a resampled model grid."""
        folder = osp.join(self.parts_dir, f'rank{rank}of{world}')
        if resampled:
            names = [osp.basename(p).replace('_score.tif', '_prob.tif')
                     for p in self.scores]
        else:
            names = [osp.basename(p) for p in self.masks + self.scores]
        return [osp.join(folder, n) for n in names]

    def part_state(self, fingerprint: dict, rows: tuple, rank: int,
                   world: int) -> RunState:
        """The progress record of one part."""
        folder = osp.join(self.parts_dir, f'rank{rank}of{world}')
        return RunState(osp.join(folder, 'progress.json'),
                        dict(fingerprint, part=[*rows, rank, world]))


def predict_part(job: SceneJob, source: SceneSource, plan: WindowPlan,
                 make_predictor: Callable, fingerprint: dict, rank: int,
                 world: int) -> None:
    """Predict, blend and write this process's rows (resuming).

    Args:
        job (SceneJob): The call.
        source (SceneSource): The open scene.
        plan (WindowPlan): Windows and blending.
        make_predictor (callable): ``make_predictor(texts) ->
            WindowPredictor`` (called only when there is work).
        fingerprint (dict): What the outputs depend on.
        rank (int): This process.
        world (int): The processes.
    """
    rows = split_rows(source.height, world)[rank]
    y0, y1 = rows
    files = job.part_files(source.resampled, rank, world)
    state = job.part_state(fingerprint, rows, rank, world)
    record = state.load() if job.resume else None
    if record is not None and not all(osp.isfile(f) for f in files):
        record = None  # outputs removed since: start over
    if record is not None and record.get('complete'):
        return
    start = int(record['rows_done']) if record else y0
    if y1 <= y0:
        state.save(rows_done=y1, complete=True, windows_run=0,
                   resumed_from_row=start)
        return
    mkdir_or_exist(osp.dirname(files[0]))
    rasters = not source.resampled
    writer = StripWriter(
        files,
        raster_profile(y1 - y0, source.width, None, None,
                       'uint8' if rasters else 'float32',
                       NODATA if rasters else None),
        create=record is None)
    predictor = make_predictor(job.texts)
    convert = to_rasters if rasters else to_probabilities

    def sink(top, acc, wsum):
        valid = source.valid(top, top + acc.shape[2])
        writer.write(top - y0, convert(predictor, acc, wsum, valid))

    def saved(row):
        state.save(rows_done=row, complete=False, resumed_from_row=start)

    windows = run_windows(source, predictor, plan, rows, start, sink, saved,
                          job.progress)
    state.save(rows_done=y1, complete=True, windows_run=windows,
               resumed_from_row=start)


def assemble_parts(job: SceneJob, source: SceneSource,
                   make_predictor: Callable, fingerprint: dict, world: int,
                   tags: dict) -> List[dict]:
    """The parts -> the final outputs (the first process); then the parts
    are removed.

    Args:
        job (SceneJob): The call.
        source (SceneSource): The open scene.
        make_predictor (callable): For the model's mask rule when a
            resampled grid is mapped back.
        fingerprint (dict): What the outputs depend on.
        world (int): The processes.
        tags (dict): Metadata of the final rasters.

    Returns:
        list[dict]: Per part: ``rank``, ``rows``, ``windows_run``,
        ``resumed_from_row``.

    Raises:
        RuntimeError: A part is not complete.
    """
    parts, records = [], []
    for rank, rows in enumerate(split_rows(source.height, world)):
        files = job.part_files(source.resampled, rank, world)
        record = job.part_state(fingerprint, rows, rank, world).load()
        if not (record and record.get('complete')):
            raise RuntimeError(
                f'Part {rank} of {world} of {job.scene} (rows {rows[0]}-'
                f'{rows[1]}) is not complete; run again to resume it.')
        records.append(dict(rank=rank, rows=list(rows),
                            windows_run=record['windows_run'],
                            resumed_from_row=record['resumed_from_row']))
        if rows[1] > rows[0]:
            parts.append((rows[0], rows[1], files))
    profile = raster_profile(source.scene_height, source.scene_width,
                             source.crs, source.scene_transform, 'uint8',
                             NODATA)
    outputs = SceneOutputs(job.masks, job.scores, job.texts, profile, tags)
    if not source.resampled:
        assemble(parts, outputs)
    else:
        grid = osp.join(job.parts_dir, 'model_grid')
        mkdir_or_exist(grid)
        probs = [osp.join(grid, osp.basename(f)) for f in parts[0][2]]
        assemble(parts, StripWriter(
            probs, raster_profile(source.height, source.width, source.crs,
                                  source.transform, 'float32', None)))
        map_back(source, make_predictor(job.texts), probs, outputs)
    shutil.rmtree(job.parts_dir, ignore_errors=True)
    return records


__all__ = ['SceneJob', 'assemble_parts', 'predict_part']
