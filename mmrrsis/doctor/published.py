"""The published size of each dataset, and a copy compared with it.

Users of the peers lose days to incomplete copies (RRSIS-D ships as split
Google-Drive zips; users report 17,339 images instead of 17,402, RMSIN
issue #2, or a corrupt ``JPEGImages.zip``, #25). The doctor says how far a
copy is from what its authors published, naming the missing files with
their split and ids.
"""
import os.path as osp
from collections import Counter, defaultdict
from typing import Dict, List, Optional

from mmrrsis.datasets.synthetic import META_FILE

__all__ = ['PUBLISHED', 'published_name', 'compare_with_published']

#: What each dataset's authors publish: ``unit`` (what a sample is),
#: ``splits`` (samples per split; None where unpublished), ``total``,
#: ``source`` (where the numbers come from).
PUBLISHED: Dict[str, dict] = {
    'RefSegRS': dict(
        unit='triplets', splits=dict(train=2172, val=431, test=1817),
        total=4420,
        source='the RRSIS paper (TGRS 2024) and the HF hub card '
        'JessicaYuan/RefSegRS (4,420); some third-party code has 413 val '
        'lines, not confirmed against the files'),
    'RRSIS-D': dict(
        unit='images', splits=dict(train=12181, val=1740, test=3481),
        total=17402,
        source="RMSIN's README (17,402 triplets, one image each) and paper"),
    'RISBench': dict(
        unit='triplets', splits=None, total=52472,
        source="CroBIM's README (52,472 triplets; no per-split counts)"),
    'RefCOCO': dict(
        unit='expressions',
        splits=dict(train=120624, val=10834, testA=5657, testB=5095),
        total=142210, source='the refer toolkit, UNC splits'),
}

#: The published name of a JSON lines dataset.
_JSONL_NAMES = dict(refsegrs='RefSegRS', rrsisd='RRSIS-D',
                    risbench='RISBench')


def _generated(dataset) -> bool:
    """Whether the copy was written by mmrrsis' generator."""
    if getattr(dataset, 'generates_missing_data', False):
        return True
    places = [getattr(dataset, 'data_root', None) or '']
    ann_file = str(getattr(dataset, 'ann_file', '') or '')
    places.append(osp.dirname(ann_file))
    return any(osp.isfile(osp.join(p, META_FILE)) for p in places if p)


def published_name(dataset) -> Optional[str]:
    """The key of :data:`PUBLISHED` a built dataset is a copy of, or None
    (a generated set, or a dataset without published counts).

    Args:
        dataset (BaseReferringDataset): The built dataset.

    Returns:
        str | None: ``'RefSegRS'``, ``'RRSIS-D'``, ``'RISBench'``,
        ``'RefCOCO'`` or None.
    """
    from mmrrsis.datasets import (
        GRefCOCODataset,
        JSONLReferringDataset,
        ReferDataset,
        RefSegRSDataset,
        RISBenchDataset,
        RRSISDDataset,
    )
    if _generated(dataset):
        return None
    if isinstance(dataset, JSONLReferringDataset):
        return _JSONL_NAMES.get(dataset.dataset_name)
    if isinstance(dataset, RISBenchDataset):
        return 'RISBench'
    if isinstance(dataset, RefSegRSDataset):
        return 'RefSegRS'
    if isinstance(dataset, RRSISDDataset):
        return 'RRSIS-D'
    if isinstance(dataset, ReferDataset) and not isinstance(
            dataset, GRefCOCODataset):
        ann_file = str(dataset.ann_file)
        if osp.basename(osp.dirname(ann_file)) == 'refcoco' and \
                osp.basename(ann_file) == 'refs(unc).p':
            return 'RefCOCO'
    return None


def _number(n: int) -> str:
    return f'{n:,}'


def _missing_example(item: dict) -> str:
    ref = f', ref_id {item["ref_id"]}' if item.get('ref_id') is not None \
        else ''
    return f'{osp.basename(item["path"])} ({item.get("split")}{ref})'


def compare_with_published(summaries: Dict[str, dict]) -> List[dict]:
    """Each checked copy of a published dataset against its counts.

    Args:
        summaries (dict[str, dict]): The doctor's split summaries (with
            ``published_as``, ``samples_per_split``, ``refs_per_split`` and
            ``missing_images``).

    Returns:
        list[dict]: Per dataset: ``dataset``, ``splits`` (the checked
        splits), ``found`` / ``published`` (samples per split, and
        ``total``), ``missing`` (count) and ``missing_examples``,
        ``complete`` (bool) and ``message``, e.g. ``'RRSIS-D: 17,339 of
        17,402 images: 63 missing, e.g. 00413.jpg (train, ref_id 413),
        ...'``.
    """
    groups = defaultdict(list)
    for summary in summaries.values():
        if summary.get('published_as'):
            groups[summary['published_as']].append(summary)
    comparisons = []
    for name, parts in groups.items():
        spec = PUBLISHED[name]
        # RRSIS-D's unit is an image, one per ref; the others count samples
        by_ref = spec['unit'] == 'images'
        found, missing = Counter(), []
        for summary in parts:
            found.update(summary.get('refs_per_split' if by_ref else
                                     'samples_per_split') or {})
            missing.extend(summary.get('missing_images') or [])
        if by_ref:
            missing = list({(m.get('split'), str(m.get('ref_id'))): m
                            for m in missing}.values())
        missing_per_split = Counter(m.get('split') for m in missing)
        order = list(spec['splits'] or ())
        splits = sorted(set(found) | set(missing_per_split),
                        key=lambda s: (order.index(s) if s in order else
                                       len(order), str(s)))
        published = {s: (spec['splits'] or {}).get(s) for s in splits}
        everything = spec['splits'] is None or set(spec['splits']) <= set(
            splits)
        total_found = sum(found.values())
        total_published = (spec['total'] if everything else sum(
            v for v in published.values() if v is not None))
        head = (f'{name}: {_number(total_found)} of '
                f'{_number(total_published)} {spec["unit"]}')
        if not everything:
            head += f' (splits {"/".join(map(str, splits))})'
        if missing:
            examples = ', '.join(_missing_example(m) for m in missing[:3])
            head += (f': {_number(len(missing))} missing, e.g. {examples}')
        per_split = []
        for s in splits:
            if published[s] is not None:
                per_split.append(f'{s} {_number(found[s])} of '
                                 f'{_number(published[s])}')
            else:
                per_split.append(f'{s} {_number(found[s])}')
        message = head + '; ' + ', '.join(per_split) + \
            f' (published: {spec["source"]})'
        complete = not missing and total_found == total_published and all(
            published[s] is None or found[s] == published[s]
            for s in splits)
        comparisons.append(dict(
            dataset=name, splits=[str(s) for s in splits],
            found=dict(found, total=total_found),
            published=dict({str(s): v for s, v in published.items()},
                           total=total_published),
            missing=len(missing),
            missing_examples=[_missing_example(m) for m in missing[:10]],
            complete=complete, message=message))
    return comparisons
