"""Statistics of a referring dataset: splits, expressions, target sizes.

For each split of a config (its ``<split>_dataloader.dataset``):

- samples (and distinct refs/ids and images);
- expression length in words, and in BERT tokens when ``--tokenizer`` gives
  a local vocab file or tokenizer folder (counted with [CLS] and [SEP], as
  the model's max length of 20 counts them), with how many exceed
  ``--max-tokens`` and would be truncated;
- target area as a share of the image (mean, median, 10th/90th
  percentile), at the original mask resolution;
- small targets, defined as a target mask covering less than
  ``--small-area`` of the image (default 1%); and small parts, defined as
  8-connected components of a target smaller than ``--small-side`` squared
  pixels (default 32x32, COCO's "small" object) at the original
  resolution, with the mean number of components (parts) per target;
- the same per category (the samples' ``category``).

Refer datasets are counted one sample per sentence (``text_mode='all'``).

Example::

    python tools/analysis_tools/dataset_stats.py \
        configs/_base_/datasets/refsegrs.py --tokenizer path/to/vocab.txt \
        --out work_dirs/refsegrs_stats.json
"""
import argparse
import json
import os.path as osp
from collections import defaultdict

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmrrsis.datasets import ReferDataset
from mmrrsis.registry import DATASETS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Statistics of the datasets of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+',
                        default=['train', 'val', 'test'])
    parser.add_argument('--data-root',
                        help='override data_root of every dataloader')
    parser.add_argument(
        '--tokenizer',
        help='local BERT vocab.txt or tokenizer folder to count tokens')
    parser.add_argument('--max-tokens', type=int, default=20,
                        help='token budget incl. [CLS]/[SEP] (LAVT: 20)')
    parser.add_argument('--small-area', type=float, default=.01,
                        help='a target under this share of the image is '
                        'small')
    parser.add_argument('--small-side', type=int, default=32,
                        help='a component under side**2 pixels is small')
    parser.add_argument('--out', help='also write the statistics as JSON')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy format')
    return parser.parse_args(argv)


def load_tokenizer(path: str):
    """A BERT tokenizer from a local vocab file or tokenizer folder."""
    from transformers import AutoTokenizer, BertTokenizerFast
    if osp.isfile(path):
        return BertTokenizerFast(vocab_file=path, do_lower_case=True)
    if osp.isdir(path):
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    raise FileNotFoundError(f'No vocab file or tokenizer folder at {path}')


def mask_measures(mask: np.ndarray, small_side: int) -> dict:
    """Area share, number of parts and of small parts of a target mask.

    Args:
        mask (np.ndarray): (H, W) target mask in {0, 1}.
        small_side (int): Parts under ``small_side ** 2`` pixels are small.

    Returns:
        dict: ``area`` (share of the image), ``parts``, ``small_parts``.
    """
    area = float(mask.mean()) if mask.size else 0.
    if not mask.any():
        return dict(area=area, parts=0, small_parts=0)
    n, _, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8)
    sizes = stats[1:, cv2.CC_STAT_AREA]
    return dict(
        area=area,
        parts=int(n - 1),
        small_parts=int((sizes < small_side**2).sum()))


def summarise(records: list, small_area: float, max_tokens: int) -> dict:
    """Aggregate per-sample records into one statistics dict."""
    if not records:
        return dict(samples=0)
    words = np.array([r['words'] for r in records])
    areas = np.array([r['area'] for r in records])
    parts = np.array([r['parts'] for r in records])
    small_parts = np.array([r['small_parts'] for r in records])
    out = dict(
        samples=len(records),
        refs=len({r['ref_id'] for r in records}),
        images=len({r['img_path'] for r in records}),
        words_mean=round(float(words.mean()), 2),
        words_max=int(words.max()),
        area_mean=round(float(areas.mean()), 5),
        area_median=round(float(np.median(areas)), 5),
        area_p10=round(float(np.percentile(areas, 10)), 5),
        area_p90=round(float(np.percentile(areas, 90)), 5),
        small_share=round(float((areas < small_area).mean()), 4),
        empty=int((areas == 0).sum()),
        parts_mean=round(float(parts.mean()), 2),
        small_part_share=round(
            float(small_parts.sum() / max(1, parts.sum())), 4))
    if records[0].get('tokens') is not None:
        tokens = np.array([r['tokens'] for r in records])
        out.update(
            tokens_mean=round(float(tokens.mean()), 2),
            tokens_max=int(tokens.max()),
            over_max_tokens=int((tokens > max_tokens).sum()))
    return out


def collect(ds_cfg, tokenizer, small_side: int, show_progress: bool):
    """Per-sample records of one dataset (masks only, images not read)."""
    ds_cfg = ds_cfg.copy()
    cls = DATASETS.get(ds_cfg['type']) if isinstance(
        ds_cfg.get('type'), str) else ds_cfg.get('type')
    if isinstance(cls, type) and issubclass(cls, ReferDataset):
        ds_cfg['text_mode'] = 'all'  # every sentence is counted
    ds_cfg['pipeline'] = [
        dict(type='LoadReferringAnnotations', check_shape=False)
    ]
    dataset = DATASETS.build(ds_cfg)
    records = []
    bar = ProgressBar(len(dataset)) if show_progress else None
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        result = dataset.pipeline(info)
        text = ' '.join(str(info['text']).split())
        rec = dict(
            ref_id=info.get('ref_id'),
            img_path=info.get('img_path'),
            category=info.get('category'),
            words=len(text.split()),
            tokens=(len(tokenizer(text)['input_ids'])
                    if tokenizer is not None else None))
        rec.update(mask_measures(result['gt_seg_map'], small_side))
        records.append(rec)
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return records


def format_table(rows: list, columns: list) -> str:
    """A plain text table."""
    cells = [[str(c) for c in columns]] + [[str(r.get(c, '')) for c in columns]
                                           for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [' | '.join(v.ljust(w) for v, w in zip(row, widths))
             for row in cells]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    tokenizer = load_tokenizer(args.tokenizer) if args.tokenizer else None
    stats = dict(
        definitions=dict(
            small_target=f'target mask < {args.small_area:.2%} of the image',
            small_part=f'8-connected component < {args.small_side}x'
            f'{args.small_side} px at the original resolution',
            tokens='BERT tokens incl. [CLS] and [SEP]',
            area='target pixels / image pixels'),
        splits={})
    for split in args.splits:
        key = f'{split}_dataloader'
        if not cfg.get(key):
            continue
        ds_cfg = cfg[key]['dataset']
        if args.data_root is not None:
            ds_cfg['data_root'] = args.data_root
        records = collect(ds_cfg, tokenizer, args.small_side,
                          not args.quiet)
        per_cat = defaultdict(list)
        for rec in records:
            per_cat[str(rec['category'])].append(rec)
        stats['splits'][split] = dict(
            overall=summarise(records, args.small_area, args.max_tokens),
            categories={
                cat: summarise(recs, args.small_area, args.max_tokens)
                for cat, recs in sorted(per_cat.items())
            })
    columns = ['split', 'samples', 'refs', 'images', 'words_mean',
               'words_max', 'area_mean', 'area_median', 'small_share',
               'parts_mean', 'small_part_share']
    if tokenizer is not None:
        columns += ['tokens_mean', 'tokens_max', 'over_max_tokens']
    rows = [dict(split=s, **v['overall']) for s, v in stats['splits'].items()]
    print(format_table(rows, columns))
    for split, value in stats['splits'].items():
        print(f'\n[{split}] per category')
        rows = [dict(category=c, **v) for c, v in value['categories'].items()]
        print(format_table(rows, ['category', 'samples', 'words_mean',
                                  'area_mean', 'small_share', 'parts_mean',
                                  'small_part_share']))
    print('\n' + '\n'.join(f'{k}: {v}'
                           for k, v in stats['definitions'].items()))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(stats, f, indent=1)
    return stats


if __name__ == '__main__':
    main()
