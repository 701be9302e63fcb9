"""Build DiCoR's prompt bank: run coarse snapshots over the training set and
store their foreground probabilities as uint8 memory maps."""
import json
import os
import os.path as osp
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader, Subset

from mmrrsis.datasets.prompt_bank import (
    MANIFEST,
    read_manifest,
    snapshot_name,
)
from mmrrsis.registry import DATASETS
from mmrrsis.utils import write_atomically
from mmrrsis.utils.config_utils import type_name

from .inference import init_model
from .model_config import load_config

#: the bank is indexed by sample: these would change what a sample is
_RANDOM_STEP = ('Random', 'PhotoMetric')


class PromptBankBuildError(RuntimeError):
    """The bank cannot be built (or continued) as asked."""


def _write_json(folder: str, name: str, payload: dict) -> None:

    def write(tmp_name: str) -> None:
        with open(osp.join(folder, tmp_name), 'w', encoding='utf-8') as f:
            json.dump(payload, f, indent=2, sort_keys=True)
            f.write('\n')

    write_atomically(folder, name, write)


def file_record(path: str) -> dict:
    """What identifies a checkpoint file: path, size, modification time."""
    stat = os.stat(path)
    return dict(
        path=osp.abspath(path),
        size=int(stat.st_size),
        mtime_ns=int(stat.st_mtime_ns))


def training_dataset_cfg(cfg: Config) -> dict:
    """The training dataset of a config, without a
    :class:`~mmrrsis.datasets.PromptBankDataset` around it, checked for
    random steps.

    Raises:
        PromptBankBuildError: No training dataset, or a random step in its
            pipeline (the bank stores one map per sample index).
    """
    loader = cfg.get('train_dataloader')
    if not isinstance(loader, dict) or 'dataset' not in loader:
        raise PromptBankBuildError(
            'The config has no train_dataloader.dataset to build the bank '
            'from.')
    dataset = loader['dataset']
    while type_name(dataset) == 'PromptBankDataset':
        dataset = dataset['dataset']
    for step in dataset.get('pipeline') or []:
        name = type_name(step)
        if name.startswith(_RANDOM_STEP):
            raise PromptBankBuildError(
                f'The training pipeline has the random step {name}: the '
                'bank stores one map per sample, computed once, so the '
                'pipeline must be deterministic (DiCoR trains without '
                'augmentation). Remove it with --cfg-options or use a '
                'config without it.')
    return dataset


def _foreground(logits: torch.Tensor, gt: Optional[torch.Tensor],
                iou_range: Optional[Tuple[float, float]]):
    """uint8 maps of the foreground probability; with ``iou_range``, the
    samples whose IoU at the map's size is outside it become all zero."""
    prob = logits.softmax(1)[:, 1]
    kept = torch.ones(prob.shape[0], dtype=torch.bool, device=prob.device)
    if iou_range is not None:
        pred = logits.argmax(1) == 1
        target = F.interpolate(
            gt[:, None].float(), prob.shape[1:], mode='nearest')[:, 0] == 1
        inter = (pred & target).flatten(1).sum(1).to(prob.dtype)
        union = (pred | target).flatten(1).sum(1).to(prob.dtype)
        iou = inter / (union + 1e-6)
        kept = (iou >= iou_range[0]) & (iou <= iou_range[1])
        prob = prob * kept[:, None, None].to(prob.dtype)
    values = (prob * 255.).round().clamp(0, 255).to(torch.uint8)
    return values.cpu().numpy(), kept.cpu()


def snapshot_files(config,
                   work_dir: str,
                   epochs: Optional[Sequence[int]] = None,
                   filename_tmpl: Optional[str] = None) -> Dict[int, str]:
    """The coarse stage's snapshot files in its work dir.

    Args:
        config (str | Config): The coarse stage's config.
        work_dir (str): Its work dir.
        epochs (Sequence[int], optional): Which snapshots. Defaults to the
            epochs of the config's ``EpochSnapshotHook``.
        filename_tmpl (str, optional): File name, ``{}`` the epoch.
            Defaults to the hook's (``snapshot_epoch_{}.pth``).

    Returns:
        dict[int, str]: Epoch -> path (existing or not).

    Raises:
        PromptBankBuildError: No epochs given and no snapshot hook in the
            config.
    """
    cfg = load_config(config)
    hooks = [
        h for h in cfg.get('custom_hooks') or []
        if type_name(h) == 'EpochSnapshotHook'
    ]
    if epochs is None:
        if not hooks:
            raise PromptBankBuildError(
                f'{config} has no EpochSnapshotHook in custom_hooks: give '
                'the snapshot epochs (--epochs).')
        epochs = hooks[0]['epochs']
    if filename_tmpl is None:
        filename_tmpl = (hooks[0].get('filename_tmpl') if hooks else
                         None) or 'snapshot_epoch_{}.pth'
    return {
        int(e): osp.join(work_dir, filename_tmpl.format(int(e)))
        for e in epochs
    }


def build_prompt_bank(config,
                      snapshots: Mapping[int, str],
                      out_dir: str,
                      iou_range: Optional[Sequence[float]] = None,
                      batch_size: int = 8,
                      num_workers: int = 0,
                      device: Optional[str] = None,
                      cfg_options: Optional[dict] = None,
                      unsafe_load: bool = False,
                      restart: bool = False,
                      log: Callable[[str], None] = print) -> dict:
    """Write ``ep{N}.mmap`` for every snapshot, resumably.

    Each snapshot's coarse model (the decode head's logits, at 1/4 of the
    input) runs over the config's training dataset in order; row i of
    ``ep{N}.mmap`` is sample i's foreground probability ``round(255 p)``
    (uint8, (N, h, w)). With ``iou_range=(lo, hi)`` (the earlier version
    of DiCoR's builder: 0.5, 0.99) a sample whose IoU at that size
    (prediction ``argmax``, ground truth resized nearest) is outside
    [lo, hi] gets an all-zero map, which the readers treat as "no prompt".

    Files are written safely: a snapshot goes to ``ep{N}.mmap.partial``
    with ``ep{N}.progress.json`` (rows done, the checkpoint's size and
    modification time) updated after every batch, and is moved to
    ``ep{N}.mmap`` when complete; ``manifest.json`` (sample count, map
    size, filter, snapshots) is replaced atomically after each snapshot.
    Run again with the same arguments, it skips complete snapshots and
    continues a partial one where it stopped; a checkpoint or setting that
    changed is refused (``restart=True`` starts that snapshot over).

    Args:
        config (str | Config): The coarse stage's config (its training
            dataset and model).
        snapshots (Mapping[int, str]): Epoch -> checkpoint file.
        out_dir (str): The bank folder.
        iou_range (Sequence[float], optional): (lo, hi) filter. Defaults
            to None (every sample kept).
        batch_size (int): Defaults to 8.
        num_workers (int): Data loading workers. Defaults to 0.
        device (str, optional): Defaults to CUDA when available.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        unsafe_load (bool): Unpickle checkpoints completely (trusted files
            only). Defaults to False.
        restart (bool): Rebuild snapshots that exist or are partial.
            Defaults to False.
        log (callable): Progress messages. Defaults to ``print``.

    Returns:
        dict: The manifest.

    Raises:
        PromptBankBuildError: See above.
    """
    if not snapshots:
        raise PromptBankBuildError('No snapshot given.')
    if iou_range is not None:
        iou_range = (float(iou_range[0]), float(iou_range[1]))
        if not 0 <= iou_range[0] <= iou_range[1] <= 1:
            raise PromptBankBuildError(
                f'iou_range must be 0 <= lo <= hi <= 1, got {iou_range}.')
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    dataset = DATASETS.build(training_dataset_cfg(cfg))
    num = len(dataset)
    if num == 0:
        raise PromptBankBuildError('The training dataset is empty.')
    os.makedirs(out_dir, exist_ok=True)
    manifest = read_manifest(out_dir) or dict(
        kind='dicor_prompt_bank',
        sample_count=num,
        iou_range=None if iou_range is None else list(iou_range),
        config=str(config) if isinstance(config, str) else None,
        snapshots=[])
    if manifest['sample_count'] != num:
        raise PromptBankBuildError(
            f'{osp.join(out_dir, MANIFEST)} is for {manifest["sample_count"]}'
            f' samples, the training dataset has {num}: use another out dir.')
    if manifest.get('iou_range') != (None if iou_range is None else
                                     list(iou_range)):
        raise PromptBankBuildError(
            f'{osp.join(out_dir, MANIFEST)} was built with iou_range='
            f'{manifest.get("iou_range")}, asked {iou_range}: use another '
            'out dir (a bank mixes no settings).')
    done = {s['epoch']: s for s in manifest['snapshots']}
    for epoch in sorted(snapshots):
        checkpoint = snapshots[epoch]
        if not osp.isfile(checkpoint):
            raise PromptBankBuildError(
                f'Snapshot of epoch {epoch} not found: {checkpoint} (the '
                'coarse config saves snapshot_epoch_<N>.pth in its work '
                'dir).')
        record = file_record(checkpoint)
        final = osp.join(out_dir, snapshot_name(epoch))
        if epoch in done and osp.isfile(final) and not restart:
            if done[epoch]['checkpoint'] != record:
                raise PromptBankBuildError(
                    f'{final} was built from {done[epoch]["checkpoint"]}, '
                    f'not from {record}: pass restart=True (--restart) to '
                    'rebuild it.')
            log(f'epoch {epoch}: {final} is complete, skipped')
            continue
        entry = _build_snapshot(cfg, dataset, checkpoint, record, out_dir,
                                epoch, iou_range, batch_size, num_workers,
                                device, unsafe_load, restart, manifest, log)
        manifest['snapshots'] = [
            s for s in manifest['snapshots'] if s['epoch'] != epoch
        ] + [entry]
        manifest['snapshots'].sort(key=lambda s: s['epoch'])
        _write_json(out_dir, MANIFEST, manifest)
    return manifest


def _build_snapshot(cfg, dataset, checkpoint: str, record: dict,
                    out_dir: str, epoch: int, iou_range, batch_size: int,
                    num_workers: int, device, unsafe_load: bool,
                    restart: bool, manifest: dict, log) -> Dict:
    """Write one snapshot's maps (continuing a partial file)."""
    num = len(dataset)
    final = osp.join(out_dir, snapshot_name(epoch))
    partial = final + '.partial'
    progress_name = f'ep{epoch}.progress.json'
    progress_path = osp.join(out_dir, progress_name)
    progress = None
    if osp.isfile(progress_path) and osp.isfile(partial) and not restart:
        with open(progress_path, encoding='utf-8') as f:
            progress = json.load(f)
        if progress['checkpoint'] != record:
            raise PromptBankBuildError(
                f'{partial} was started from {progress["checkpoint"]}, not '
                f'from {record}: pass restart=True (--restart).')
        log(f'epoch {epoch}: continuing {partial} at row '
            f'{progress["rows"]} of {num}')
    model = init_model(
        cfg, checkpoint, device=device, unsafe_load=unsafe_load)
    if not hasattr(model, 'coarse_logits'):
        raise PromptBankBuildError(
            f'{type(model).__name__} has no coarse_logits(); the bank is '
            'built from a DiCoREncoderDecoder (the coarse stage config).')
    start = 0 if progress is None else int(progress['rows'])
    kept = 0 if progress is None else int(progress['kept'])
    maps = None
    if progress is not None:
        maps = np.memmap(
            partial,
            mode='r+',
            dtype=np.uint8,
            shape=(num, progress['height'], progress['width']))
    loader = DataLoader(
        Subset(dataset, range(start, num)),
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    row = start
    with torch.no_grad():
        for data in loader:
            data = model.data_preprocessor(data, True)
            logits = model.coarse_logits(data['inputs'],
                                         data['data_samples'])
            gt = torch.stack(
                [s.gt_sem_seg.data[0] for s in data['data_samples']])
            values, valid = _foreground(logits, gt, iou_range)
            if maps is None:
                height, width = values.shape[1:]
                if 'height' in manifest and (manifest['height'],
                                             manifest['width']) != (height,
                                                                    width):
                    raise PromptBankBuildError(
                        f'epoch {epoch}: maps of {height}x{width}, the '
                        f'bank\'s are {manifest["height"]}x'
                        f'{manifest["width"]}.')
                manifest.update(height=height, width=width)
                maps = np.memmap(
                    partial, mode='w+', dtype=np.uint8,
                    shape=(num, height, width))
            maps[row:row + len(values)] = values
            row += len(values)
            kept += int(valid.sum())
            maps.flush()
            _write_json(
                out_dir, progress_name,
                dict(
                    rows=row,
                    kept=kept,
                    height=int(maps.shape[1]),
                    width=int(maps.shape[2]),
                    checkpoint=record))
    manifest.setdefault('height', int(maps.shape[1]))
    manifest.setdefault('width', int(maps.shape[2]))
    del maps
    os.replace(partial, final)
    os.remove(progress_path)
    log(f'epoch {epoch}: kept {kept} of {num} samples, wrote {final}')
    return dict(
        epoch=int(epoch),
        file=snapshot_name(epoch),
        checkpoint=record,
        kept=kept)


__all__ = [
    'PromptBankBuildError', 'build_prompt_bank', 'file_record',
    'snapshot_files', 'training_dataset_cfg'
]
