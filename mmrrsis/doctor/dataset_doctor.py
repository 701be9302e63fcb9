"""The dataset doctor: read every sample of a config's datasets once and
say what is wrong with the copy on disk, before a long training run.

:func:`check_dataset` builds each split's dataset the way training would
(same class, same arguments, the same annotation parsing) but collects the
problems the build finds instead of stopping at the first, then decodes
every image and mask in parallel and checks what the loader would make of
them. ``tools/dataset_converters/check_dataset.py`` is its command line.

Findings are **errors** (the set cannot be used as it is: missing, empty,
unreadable or directory files, images the pipeline's
``LoadRSImageFromFile`` would refuse (not 8-bit RGB and no bands / scale
set), refs whose annotation or image entry is missing, annotation lines
without an expression, masks the dataset's rule would read wrongly,
undecodable segmentations, empty expressions, size mismatches under
``size_mismatch='error'``) or **warnings** (what the loader
handles but a user should know: image/mask size mismatches it resamples,
empty masks, duplicate expressions, expressions longer than the token
limit, expressions of unknown tokens only, a split without categories,
masks read leniently). The set is usable when there is no error.
"""
import copy
import io
import multiprocessing
import os.path as osp
import warnings
from collections import Counter, defaultdict
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine import fileio
from mmengine.utils import track_parallel_progress, track_progress

from mmrrsis.datasets.band_scaling import BandScalingError
from mmrrsis.datasets.base_referring_dataset import BaseReferringDataset
from mmrrsis.datasets.masks import (
    decode_segmentation,
    describe_soft_edges,
    describe_values,
    mask_problem,
    read_mask_file,
    soft_edge_pixels,
)
from mmrrsis.datasets.raster_io import (
    RasterDecodeError,
    check_tiff_bytes,
    describe_format,
    sniff_format,
)
from mmrrsis.datasets.refer import ReferDataset
from mmrrsis.datasets.text_utils import normalize_text
from mmrrsis.datasets.transforms.loading import LoadReferringAnnotations
from mmrrsis.datasets.transforms.rs_loading import (
    LoadRSImageFromFile,
    header_kind,
)
from mmrrsis.models.text_encoders import ExpressionTokenizer
from mmrrsis.registry import DATASETS
from mmrrsis.utils.config_utils import find_steps

SPLITS = ('train', 'val', 'test')
#: Problem kinds that make a set unusable; every other kind is a warning.
ERROR_KINDS = frozenset({
    'cannot_build', 'missing_file', 'directory', 'unreadable_file',
    'bad_line', 'missing_annotation', 'missing_image_entry', 'no_sentences',
    'bad_mask_values', 'bad_segmentation', 'empty_expression',
    'size_mismatch_refused', 'needs_scaling', 'needs_rasterio'
})
#: Default token limit (LAVT / RMSIN: 20 ids, [CLS] and [SEP] included).
DEFAULT_MAX_TOKENS = 20


# ------------------------------------------------------ which datasets --


def leaf_datasets(ds_cfg: dict, name: str) -> Iterator[Tuple[str, dict]]:
    """(name, config) of every dataset a dataset config builds, looking
    through wrappers (``dataset=...``, ``datasets=[...]``)."""
    if isinstance(ds_cfg.get('datasets'), (list, tuple)):
        for i, sub in enumerate(ds_cfg['datasets']):
            yield from leaf_datasets(sub, f'{name}[{i}]')
    elif isinstance(ds_cfg.get('dataset'), dict):
        yield from leaf_datasets(ds_cfg['dataset'], name)
    else:
        yield name, ds_cfg


def _step_args(pipeline: Optional[Sequence], name: str) -> Optional[dict]:
    """The arguments of the pipeline's first ``name`` step, or None."""
    found = find_steps(pipeline or [], (name, ))
    if not found:
        return None
    return {k: v for k, v in pipeline[found[0]].items() if k != 'type'}


def loader_settings(pipeline: Optional[Sequence]) -> dict:
    """The arguments of the pipeline's ``LoadReferringAnnotations``."""
    return _step_args(pipeline, 'LoadReferringAnnotations') or {}


def image_loader_settings(pipeline: Optional[Sequence]) -> Optional[dict]:
    """The arguments of the pipeline's ``LoadRSImageFromFile`` (None when
    it reads images otherwise, e.g. with mmcv's ``LoadImageFromFile``)."""
    return _step_args(pipeline, 'LoadRSImageFromFile')


# -------------------------------------------------------------- tokens --


def build_token_counter(cfg) -> ExpressionTokenizer:
    """How expressions are tokenised: the config's text encoder's own
    tokenizer (:meth:`~mmrrsis.models.text_encoders.BaseTextEncoder.\
build_tokenizer`, local files only), else a whitespace estimate.

    The estimate counts words + 2 (e.g. [CLS] and [SEP]; WordPiece may
    split a word into several pieces, so it is a lower bound) and is used
    when the config has no text encoder or its tokenizer would need a
    download.

    Args:
        cfg (Config): The full config.

    Returns:
        ExpressionTokenizer: ``encode``, ``max_tokens``, ``unk_id`` (None
        for the estimate) and ``description``.
    """
    from mmrrsis.models.text_encoders import (
        TokenizerUnavailableError,
        iter_text_encoder_cfgs,
    )
    found = next(iter_text_encoder_cfgs(cfg.get('model') or {}), None)
    max_tokens = DEFAULT_MAX_TOKENS
    if found is None:
        reason = 'the config has no text encoder'
    else:
        node, cls = found
        max_tokens = int(node.get('max_tokens', DEFAULT_MAX_TOKENS))
        try:
            return cls.build_tokenizer(node)
        except TokenizerUnavailableError as e:
            reason = f'its tokenizer cannot be built offline: {e}'

    def estimate(text: str) -> List[int]:
        return [0] * (len(text.split()) + 2)

    first_line = str(reason).splitlines()[0][:200]
    return ExpressionTokenizer(
        encode=estimate,
        max_tokens=max_tokens,
        unk_id=None,
        description='a whitespace estimate (words + [CLS] + [SEP], a lower '
        f'bound of the WordPiece count), since {first_line}')


# --------------------------------------------------- one sample's files --


def _read_image(path: str, backend_args: Optional[dict] = None
                ) -> Tuple[Optional[Tuple[int, int]], Optional[Tuple[str,
                                                                     str]]]:
    """((h, w), None) of a fully decoded image, or (None, (kind, why))."""
    from PIL import Image, UnidentifiedImageError
    if not backend_args or backend_args.get('backend') in (None, 'local'):
        if osp.isdir(path):
            return None, ('directory',
                          f'Image path is a directory, not a file: {path}')
        if not osp.exists(path):
            return None, ('missing_file', f'Image not found: {path}')
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        return None, ('missing_file', f'Image not found: {path}')
    if not data:
        return None, ('unreadable_file',
                      f'Image file is empty (0 bytes): {path}')
    try:
        img = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError):
        img = None  # not for Pillow: OpenCV decides below
    if img is not None:
        try:
            with img:
                check_tiff_bytes(data, path, img)  # DEFLATE checksums
                img.load()  # every pixel: finds truncated files
                orientation = img.getexif().get(0x0112, 1)
                w, h = img.size
        except RasterDecodeError as e:
            return None, ('unreadable_file', str(e))
        except Exception as e:  # truncated or corrupt pixel data
            return None, ('unreadable_file',
                          f'Image file is corrupt or truncated: {path} ({e})')
        return ((w, h) if orientation in (5, 6, 7, 8) else (h, w)), None
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8),
                           cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.size == 0:
        return None, ('unreadable_file',
                      f'Image file cannot be decoded: {path} (its content '
                      f'is {describe_format(sniff_format(data[:4096]))})')
    return tuple(decoded.shape[:2]), None


def conversion_problem(path: str, settings: dict
                       ) -> Optional[Tuple[str, str]]:
    """Whether ``LoadRSImageFromFile(**settings)`` refuses a readable image.

    An 8-bit RGB file under plain settings is told from its header alone;
    any other image is loaded as training would load it.

    Args:
        path (str): The image (already known to decode).
        settings (dict): The pipeline's ``LoadRSImageFromFile`` arguments.

    Returns:
        tuple[str, str] | None: (kind, message) of the refusal:
        ``'needs_scaling'`` (not 8-bit RGB, or bands it lacks, for these
        settings), ``'needs_rasterio'`` or ``'unreadable_file'``.
    """
    loader = LoadRSImageFromFile(**settings)
    if loader.plain and header_kind(
            fileio.get(path, backend_args=loader.backend_args))[0]:
        return None
    try:
        loader(dict(img_path=path))
    except BandScalingError as e:
        return 'needs_scaling', str(e)
    except ImportError as e:
        return 'needs_rasterio', str(e)
    except ValueError as e:
        return 'unreadable_file', str(e)
    return None


def inspect_files(task: dict) -> dict:
    """Decode one sample's image and mask and check them.

    Args:
        task (dict): ``img_path``; ``seg_map_path`` or ``segmentation``,
            ``height``, ``width``; the effective rules ``mask_threshold``,
            ``mask_check``, ``soft_edge``, ``polygon_overlap``,
            ``size_mismatch``; ``backend_args``; ``image_loader`` (the
            ``LoadRSImageFromFile`` arguments, or None).

    Returns:
        dict: ``img_hw``, ``mask_hw``, ``area`` (target pixels),
        ``soft_edge`` (soft-edge pixels of a mask file and how many of them
        are read as target, see
        :func:`~mmrrsis.datasets.masks.soft_edge_pixels`) and ``findings``
        (list of (kind, message)).
    """
    findings = []
    soft_edge = (0, 0)
    img_hw, problem = _read_image(task['img_path'], task.get('backend_args'))
    if problem is None and task.get('image_loader') is not None:
        problem = conversion_problem(task['img_path'], task['image_loader'])
    if problem is not None:
        findings.append(problem)
    mask = None
    if task.get('seg_map_path') is not None:
        path = task['seg_map_path']
        try:
            raw = read_mask_file(path, task.get('backend_args'))
        except FileNotFoundError as e:
            findings.append(('missing_file', str(e)))
        except IsADirectoryError as e:
            findings.append(('directory', str(e)))
        except ValueError as e:
            findings.append(('unreadable_file', str(e)))
        else:
            threshold = task['mask_threshold']
            why = mask_problem(raw, threshold, task['soft_edge'])
            if why is not None:
                kind = ('bad_mask_values' if task['mask_check'] == 'strict'
                        else 'lenient_mask')
                findings.append((kind, f'Mask {path} (rule: target = value '
                                 f'> {threshold:g}): {why}'))
            else:
                soft_edge = soft_edge_pixels(raw, threshold)
                if soft_edge[0]:
                    findings.append(
                        ('soft_edge', f'Mask {path}: {describe_values(raw)}'))
            flat = raw.max(axis=2) if raw.ndim == 3 else raw
            mask = flat > threshold
            if why is not None and 0 < flat.max() <= threshold:
                mask = flat > 0  # how a lenient read takes a 0/1 mask
    else:
        try:
            mask = decode_segmentation(task['segmentation'],
                                       int(task['height']),
                                       int(task['width']),
                                       task['polygon_overlap']) > 0
        except (KeyError, TypeError, ValueError) as e:
            findings.append(('bad_segmentation',
                             f'Cannot decode the segmentation of '
                             f'{task["where"]}: {e}'))
    mask_hw = None if mask is None else tuple(mask.shape)
    if img_hw is not None and mask_hw is not None and img_hw != mask_hw:
        refused = task['size_mismatch'] == 'error'
        findings.append((
            'size_mismatch_refused' if refused else 'size_mismatch',
            f'{task["img_path"]} is {img_hw[0]}x{img_hw[1]} (h x w) but '
            f'its mask {mask_hw[0]}x{mask_hw[1]}: ' +
            ("refused (size_mismatch='error')" if refused else
             "the image is resampled to the mask's grid "
             "(size_mismatch='resample')")))
    area = None if mask is None else int(mask.sum())
    if area == 0:
        findings.append(('empty_mask', f'The mask of {task["where"]} is '
                         'empty (no target pixel)'))
    return dict(img_hw=img_hw, mask_hw=mask_hw, area=area,
                soft_edge=soft_edge, findings=findings)


# --------------------------------------------------------------- checks --


class _Split:
    """Findings and counts of one dataset of a config."""

    def __init__(self, name: str):
        self.name = name
        self.findings: List[dict] = []
        self.summary: dict = dict()

    def add(self, kind: str, message: str, where: str = '') -> None:
        self.findings.append(
            dict(
                split=self.name,
                kind=kind,
                severity='error' if kind in ERROR_KINDS else 'warning',
                message=message,
                where=where))


def _build(ds_cfg: dict, split: _Split) -> Optional[BaseReferringDataset]:
    cfg = copy.deepcopy(dict(ds_cfg))
    cfg.update(pipeline=[], lazy_init=False, serialize_data=False)
    cls = DATASETS.get(cfg['type']) if isinstance(cfg.get('type'),
                                                   str) else cfg.get('type')
    if isinstance(cls, type) and issubclass(cls, BaseReferringDataset):
        cfg.update(collect_problems=True, check_files=True)
        if issubclass(cls, ReferDataset):
            cfg['text_mode'] = 'all'  # every sentence is checked
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            dataset = DATASETS.build(cfg)
    except Exception as e:
        split.add('cannot_build', f'{type(e).__name__}: {e}',
                  str(cfg.get('data_root')))
        return None
    for problem in getattr(dataset, 'problems', []):
        if problem['kind'] != 'size_mismatch':  # checked file by file
            split.add(problem['kind'], problem['message'], problem['where'])
    return dataset


def _tasks(dataset, settings: LoadReferringAnnotations,
           image_loader: Optional[dict] = None
           ) -> Tuple[List[dict], List[int]]:
    """One task per distinct (image, mask) and each sample's task."""
    tasks, index, of_sample = [], {}, []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        key = (info['img_path'], info.get('seg_map_path'),
               info.get('ann_id'))
        if key not in index:
            index[key] = len(tasks)
            task = {
                k: info.get(k)
                for k in ('img_path', 'seg_map_path', 'segmentation',
                          'height', 'width')
            }
            for rule in ('mask_threshold', 'mask_check', 'polygon_overlap',
                         'size_mismatch'):
                task[rule] = settings.rule(info, rule)
            task.update(
                soft_edge=settings.soft_edge,
                backend_args=settings.backend_args,
                image_loader=image_loader,
                where=info.get('source') or info['img_path'])
            tasks.append(task)
        of_sample.append(index[key])
    return tasks, of_sample


def _run(tasks: List[dict], nproc: int, show_progress: bool) -> List[dict]:
    """:func:`inspect_files` of every task, in ``nproc`` processes."""
    nproc = min(nproc, len(tasks))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if nproc > 1 and show_progress:
            return track_parallel_progress(
                inspect_files, tasks, nproc=nproc, keep_order=True)
        if nproc > 1:
            with multiprocessing.Pool(nproc) as pool:
                return pool.map(inspect_files, tasks)
        if show_progress and tasks:
            return track_progress(inspect_files, tasks)
        return [inspect_files(task) for task in tasks]


def _check_texts(dataset, split: _Split,
                 tokenizer: ExpressionTokenizer) -> dict:
    """Empty, duplicate, long and unknown-only expressions."""
    max_tokens = tokenizer.max_tokens
    per_image = defaultdict(list)
    long_ones, unknown_only, tokens = [], [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        where = info.get('source') or info['img_path']
        text = normalize_text(str(info.get('text') or ''))
        if not text:
            split.add('empty_expression', f'{where}: empty expression '
                      f'{info.get("text")!r}', where)
            continue
        per_image[(info['img_path'], text.lower())].append(
            f'{where} sent_id={info.get("sent_id")}')
        ids = tokenizer.encode(text)
        tokens.append(len(ids))
        if len(ids) > max_tokens:
            long_ones.append(f'{where} ({len(ids)} tokens: {text!r})')
        unk = tokenizer.unk_id
        if unk is not None and len(ids) > 2 and all(t == unk
                                                    for t in ids[1:-1]):
            unknown_only.append(f'{where} ({text!r})')
    for (img_path, text), places in per_image.items():
        if len(places) > 1:
            split.add('duplicate_expression',
                      f'{len(places)} samples of {img_path} read {text!r}: '
                      + '; '.join(places[:4]), places[0])
    if long_ones:
        split.add('long_expression',
                  f'{len(long_ones)} expression(s) exceed {max_tokens} tokens '
                  '([CLS] and [SEP] included) and are cut: ' +
                  '; '.join(long_ones[:5]))
    if unknown_only:
        split.add('unknown_tokens',
                  f'{len(unknown_only)} expression(s) tokenise to unknown '
                  'tokens only (another language or alphabet than the '
                  'vocabulary?): ' + '; '.join(unknown_only[:5]))
    return dict(tokens_max=max(tokens) if tokens else 0,
                over_max_tokens=len(long_ones))


def check_split(name: str, ds_cfg: dict, tokenizer: ExpressionTokenizer,
                nproc: int = 1, show_progress: bool = True) -> _Split:
    """Check one dataset config (see :func:`check_dataset`)."""
    split = _Split(name)
    dataset = _build(ds_cfg, split)
    if dataset is None:
        return split
    settings = LoadReferringAnnotations(**loader_settings(
        ds_cfg.get('pipeline')))
    tasks, of_sample = _tasks(
        dataset, settings, image_loader_settings(ds_cfg.get('pipeline')))
    results = _run(tasks, nproc, show_progress)
    grouped = defaultdict(list)
    for task, result in zip(tasks, results):
        for kind, message in result['findings']:
            grouped[kind].append((message, task['where']))
    for kind, items in grouped.items():
        if kind == 'soft_edge':
            continue  # accepted by the rule; counted in one warning below
        for message, where in items:
            split.add(kind, message, where)
    edge_pixels = sum(r['soft_edge'][0] for r in results)
    edge_as_target = sum(r['soft_edge'][1] for r in results)
    if grouped['soft_edge']:
        split.add('soft_edge', describe_soft_edges(
            len(grouped['soft_edge']),
            sum(t.get('seg_map_path') is not None for t in tasks),
            edge_pixels, edge_as_target, tasks[0]['mask_threshold'], [
                osp.basename(t['seg_map_path'])
                for t, r in zip(tasks, results) if r['soft_edge'][0]
            ][:3]))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    categories = Counter(str(info.get('category')) for info in infos)
    if infos and set(categories) == {'None'}:
        split.add('no_categories',
                  f'No sample of {name} has a category '
                  f'({getattr(dataset, "CATEGORY_HINT", "")}): per-category '
                  'metrics will be empty')
    split.summary = dict(
        dataset=type(dataset).__name__,
        data_root=ds_cfg.get('data_root'),
        samples=len(infos),
        refs=len({str(info.get('ref_id')) for info in infos}),
        images=len({info['img_path'] for info in infos}),
        categories=dict(sorted(categories.items())),
        size_mismatches=len(grouped['size_mismatch']) +
        len(grouped['size_mismatch_refused']),
        size_policy=sorted({t['size_mismatch'] for t in tasks}),
        empty_masks=len(grouped['empty_mask']),
        soft_edged_masks=len(grouped['soft_edge']),
        soft_edge_pixels=edge_pixels,
        soft_edge_as_target=edge_as_target)
    split.summary.update(_check_texts(dataset, split, tokenizer))
    return split


def check_dataset(cfg,
                  splits: Sequence[str] = SPLITS,
                  nproc: Optional[int] = None,
                  show_progress: bool = True) -> dict:
    """Check every sample of the datasets of a config.

    Args:
        cfg (Config): The full config (its ``<split>_dataloader.dataset``
            and, for the token limit, ``model.text_encoder``).
        splits (Sequence[str]): Dataloaders to check. Defaults to
            ('train', 'val', 'test').
        nproc (int, optional): Processes decoding the files. Defaults to
            None (the number of CPUs).
        show_progress (bool): Show progress bars. Defaults to True.

    Returns:
        dict: ``usable`` (bool: no error), ``tokens`` (how expressions were
        counted and the limit), ``splits`` (per checked dataset: counts
        per category, samples, refs, images, size mismatches and the
        policy, empty masks, long expressions), ``errors`` and
        ``warnings`` (lists of findings: ``split``, ``kind``,
        ``message``, ``where``).
    """
    nproc = nproc or multiprocessing.cpu_count()
    tokenizer = build_token_counter(cfg)
    checked: Dict[str, _Split] = {}
    seen = {}
    for name in splits:
        loader = cfg.get(f'{name}_dataloader')
        if not loader or not loader.get('dataset'):
            continue
        for leaf_name, ds_cfg in leaf_datasets(loader['dataset'], name):
            key = repr(sorted((k, repr(v)) for k, v in ds_cfg.items()
                              if k != 'pipeline'))
            if key in seen:  # e.g. test_dataloader = val_dataloader
                checked[leaf_name] = _Split(leaf_name)
                checked[leaf_name].summary = dict(same_as=seen[key])
                continue
            seen[key] = leaf_name
            checked[leaf_name] = check_split(leaf_name, ds_cfg, tokenizer,
                                             nproc, show_progress)
    findings = [f for s in checked.values() for f in s.findings]
    errors = [f for f in findings if f['severity'] == 'error']
    return dict(
        usable=not errors and bool(checked),
        tokens=dict(counted_with=tokenizer.description,
                    max_tokens=tokenizer.max_tokens),
        splits={name: s.summary for name, s in checked.items()},
        errors=errors,
        warnings=[f for f in findings if f['severity'] == 'warning'])


def format_report(report: dict, limit: int = 10) -> str:
    """The report as text: a block per split, then errors and warnings
    (at most ``limit`` of each kind; the JSON report has them all)."""
    lines = []
    for name, summary in report['splits'].items():
        if 'same_as' in summary:
            lines.append(
                f'[{name}] the same dataset as [{summary["same_as"]}]')
            continue
        if not summary:
            lines.append(f'[{name}] could not be built (see errors)')
            continue
        lines.append(
            f'[{name}] {summary["dataset"]} at {summary["data_root"]}: '
            f'{summary["samples"]} samples, {summary["refs"]} refs, '
            f'{summary["images"]} images; size mismatches: '
            f'{summary["size_mismatches"]} (policy '
            f'{"/".join(summary["size_policy"]) or "-"}); empty masks: '
            f'{summary["empty_masks"]}; masks with a soft edge: '
            f'{summary["soft_edged_masks"]}; longest expression: '
            f'{summary["tokens_max"]} tokens '
            f'({summary["over_max_tokens"]} over the limit)')
        cats = ', '.join(f'{k}: {v}' for k, v in summary['categories'].items())
        lines.append(f'  categories: {cats}')
    lines.append(f'Tokens counted with {report["tokens"]["counted_with"]}; '
                 f'limit {report["tokens"]["max_tokens"]} incl. [CLS]/[SEP].')
    for title in ('errors', 'warnings'):
        items = report[title]
        lines.append(f'{len(items)} {title}' + (':' if items else '.'))
        by_kind = defaultdict(list)
        for item in items:
            by_kind[(item['split'], item['kind'])].append(item['message'])
        for (split, kind), messages in by_kind.items():
            for message in messages[:limit]:
                lines.append(f'  [{split}] {kind}: {message}')
            if len(messages) > limit:
                lines.append(f'  [{split}] {kind}: ... and '
                             f'{len(messages) - limit} more')
    lines.append('The dataset is usable.' if report['usable'] else
                 'The dataset is NOT usable as it is: fix the errors above.')
    return '\n'.join(lines)
