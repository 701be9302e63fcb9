"""The RRSIS paper's benchmark table, from ``RRSISMetric`` results.

The paper (Yuan et al., TGRS 2024) compares referring segmentation models
on RefSegRS' test split by Prec@0.5-0.9, oIoU and mIoU, and shows that the
natural-image models miss small and scattered targets. From the metrics of
several models on one split (:func:`mmrrsis.engine.benchmark_models`),
this module writes:

- :func:`paper_table`: the paper's table (Markdown);
- :func:`size_table`: mIoU (and samples) by target size, the share of the
  image the target covers (``RRSISMetric(area_bins=...)``);
- :func:`category_table`: mIoU per category;
- :func:`write_csv`: every metric of every row;
- :func:`plot_benchmark`: the two views as a PNG.

Nothing here computes a score: every number is the metric's.
"""
import csv
import math
from typing import Dict, List, Optional, Sequence, Tuple

from .metrics.rrsis_metric import area_bin_name

#: The paper's columns: metric keys and their headers.
PAPER_COLUMNS = (('Prec@0.5', 'P@0.5'), ('Prec@0.6', 'P@0.6'),
                 ('Prec@0.7', 'P@0.7'), ('Prec@0.8', 'P@0.8'),
                 ('Prec@0.9', 'P@0.9'), ('oIoU', 'oIoU'), ('mIoU', 'mIoU'))
#: Target-size bins (share of the image) of the small-target view.
DEFAULT_AREA_BINS = (0., 0.005, 0.01, 0.05, 0.2, 1.)
_NOT_CATEGORY = ('small_', 'area_')


def row_label(row: dict) -> str:
    """The method column: the model's name, marked when shuffled."""
    if row.get('text') == 'shuffled':
        return f'{row["name"]}, expressions shuffled'
    return row['name']


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '-'
    return f'{value:.2f}'


def _markdown(header: Sequence[str], body: List[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(cells) + ' |' for cells in body]
    return '\n'.join(lines)


def check_metrics(rows: Sequence[dict]) -> None:
    """Raise unless every row holds the paper's metrics."""
    for row in rows:
        missing = [k for k, _ in PAPER_COLUMNS if k not in row['metrics']]
        if missing:
            raise ValueError(
                f'{row_label(row)}: the metrics lack {missing} (got '
                f'{sorted(row["metrics"])[:8]}...). A split that mixes '
                'several source splits is scored per split: evaluate one '
                'at a time.')


def paper_table(rows: Sequence[dict]) -> str:
    """The paper's table: method, P@0.5-0.9, oIoU, mIoU (percent).

    Args:
        rows (Sequence[dict]): ``name``, ``text`` and ``metrics`` each.

    Returns:
        str: A Markdown table.
    """
    check_metrics(rows)
    header = ['method'] + [h for _, h in PAPER_COLUMNS]
    body = [[row_label(r)] + [_cell(r['metrics'].get(k))
                              for k, _ in PAPER_COLUMNS] for r in rows]
    return _markdown(header, body)


def area_bins_of(metrics: Dict[str, float],
                 edges: Sequence[float]) -> List[Tuple[str, str]]:
    """(metric prefix, label) of each target-size bin of ``edges``."""
    bins = []
    for lo, hi in zip(edges, edges[1:]):
        prefix = area_bin_name(lo, hi)
        if f'{prefix}_mIoU' not in metrics:
            raise ValueError(f'No {prefix}_mIoU in the metrics: score with '
                             f'RRSISMetric(area_bins={tuple(edges)}).')
        bins.append((prefix, f'{lo * 100:g}-{hi * 100:g}%'))
    return bins


def size_table(rows: Sequence[dict], edges: Sequence[float]) -> str:
    """mIoU by target size: one column per bin, its sample count in the
    header.

    Args:
        rows (Sequence[dict]): As :func:`paper_table`.
        edges (Sequence[float]): The bins' edges (fractions of the image).

    Returns:
        str: A Markdown table.
    """
    bins = area_bins_of(rows[0]['metrics'], edges)
    counts = [rows[0]['metrics'].get(f'{p}_samples', 0) for p, _ in bins]
    header = ['method'] + [f'{label} (n={n})'
                           for (_, label), n in zip(bins, counts)]
    body = [[row_label(r)] + [_cell(r['metrics'].get(f'{p}_mIoU'))
                              for p, _ in bins] for r in rows]
    return _markdown(header, body)


def categories_of(rows: Sequence[dict]) -> List[str]:
    """The categories with per-category scores, sorted (as the metric
    names them: spaces as ``_``)."""
    names = set()
    for row in rows:
        for key in row['metrics']:
            if (key.endswith('_mIoU') and not key.startswith(_NOT_CATEGORY)
                    and '/' not in key):
                names.add(key[:-len('_mIoU')])
    return sorted(names)


def category_table(rows: Sequence[dict],
                   counts: Optional[Dict[str, int]] = None) -> str:
    """mIoU per category.

    Args:
        rows (Sequence[dict]): As :func:`paper_table`.
        counts (dict[str, int], optional): Samples per category, shown in
            the header. Defaults to None.

    Returns:
        str: A Markdown table ('' when no sample has a category).
    """
    cats = categories_of(rows)
    if not cats:
        return ''
    counts = {'_'.join(str(k).split()): v for k, v in (counts or {}).items()}
    header = ['method'] + [
        f'{c.replace("_", " ")} (n={counts[c]})' if c in counts else
        c.replace('_', ' ') for c in cats
    ]
    body = [[row_label(r)] + [_cell(r['metrics'].get(f'{c}_mIoU'))
                              for c in cats] for r in rows]
    return _markdown(header, body)


def write_csv(rows: Sequence[dict], path: str) -> None:
    """Every metric of every row, one row per model and text.

    Args:
        rows (Sequence[dict]): ``name``, ``config``, ``checkpoint``,
            ``text`` and ``metrics`` each.
        path (str): The CSV file.
    """
    keys = []
    for row in rows:
        keys += [k for k in row['metrics'] if k not in keys]
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.writer(f)
        writer.writerow(['method', 'text', 'config', 'checkpoint'] + keys)
        for row in rows:
            writer.writerow(
                [row['name'], row['text'], row['config'], row['checkpoint']] +
                [row['metrics'].get(k, '') for k in keys])


def plot_benchmark(rows: Sequence[dict],
                   edges: Sequence[float],
                   path: str,
                   title: str = '') -> None:
    """mIoU by target size (lines) and per category (bars), one series
    per model (true expressions only), as a PNG.

    Args:
        rows (Sequence[dict]): As :func:`paper_table`.
        edges (Sequence[float]): The target-size bins' edges.
        path (str): The PNG file.
        title (str): Figure title. Defaults to ''.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in rows if r.get('text') != 'shuffled']
    bins = area_bins_of(rows[0]['metrics'], edges)
    cats = categories_of(rows)
    fig, axes = plt.subplots(
        1, 2 if cats else 1, figsize=(13 if cats else 6.5, 4.2),
        gridspec_kw=dict(width_ratios=[1, 1.6]) if cats else None)
    axes = np.atleast_1d(axes)
    x = np.arange(len(bins))
    for row in rows:
        values = [row['metrics'].get(f'{p}_mIoU', float('nan'))
                  for p, _ in bins]
        axes[0].plot(x, values, marker='o', label=row['name'])
    counts = [rows[0]['metrics'].get(f'{p}_samples', 0) for p, _ in bins]
    axes[0].set_xticks(x)
    axes[0].set_xticklabels(
        [f'{label}\nn={n}' for (_, label), n in zip(bins, counts)],
        fontsize=8)
    axes[0].set_xlabel('target size (share of the image)')
    axes[0].set_ylabel('mIoU (%)')
    axes[0].set_title('by target size')
    axes[0].grid(alpha=.3)
    axes[0].legend(fontsize=8)
    if cats:
        width = .8 / len(rows)
        xc = np.arange(len(cats))
        for k, row in enumerate(rows):
            values = [row['metrics'].get(f'{c}_mIoU', float('nan'))
                      for c in cats]
            axes[1].bar(xc + (k - (len(rows) - 1) / 2) * width, values,
                        width, label=row['name'])
        axes[1].set_xticks(xc)
        axes[1].set_xticklabels([c.replace('_', ' ') for c in cats],
                                rotation=45, ha='right', fontsize=8)
        axes[1].set_ylabel('mIoU (%)')
        axes[1].set_title('per category')
        axes[1].grid(axis='y', alpha=.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def benchmark_markdown(rows: Sequence[dict],
                       edges: Sequence[float],
                       split: str,
                       counts: Optional[Dict[str, int]] = None,
                       plot: Optional[str] = None) -> str:
    """The whole report: the paper's table and the small-target view.

    Args:
        rows (Sequence[dict]): As :func:`paper_table`.
        edges (Sequence[float]): The target-size bins' edges.
        split (str): The split's name, for the text.
        counts (dict[str, int], optional): Samples per category.
        plot (str, optional): A PNG to link. Defaults to None.

    Returns:
        str: Markdown.
    """
    parts = [
        f'Referring segmentation on the {split} split (percent; '
        'RRSISMetric).', '',
        paper_table(rows), '',
        'mIoU by target size (the share of the image the target covers):',
        '', size_table(rows, edges)
    ]
    cats = category_table(rows, counts)
    if cats:
        parts += ['', 'mIoU per category:', '', cats]
    if plot:
        parts += ['', f'![benchmark]({plot})']
    return '\n'.join(parts) + '\n'


__all__ = [
    'PAPER_COLUMNS', 'DEFAULT_AREA_BINS', 'row_label', 'check_metrics',
    'paper_table', 'area_bins_of', 'size_table', 'categories_of',
    'category_table', 'write_csv', 'plot_benchmark', 'benchmark_markdown'
]
