"""Plot loss and metric curves of training runs.

Reads the ``vis_data/scalars.json`` that mmengine's ``LocalVisBackend``
writes (one JSON record a line: training records carry ``loss``/``lr`` and
``iter``; validation records carry the metrics and ``step``, the epoch or
iteration of the validation) and draws one panel per key.

Examples::

    python tools/analysis_tools/analyze_logs.py work_dirs/lgce_swin-b
    python tools/analysis_tools/analyze_logs.py RUN_A RUN_B \
        --keys loss oIoU mIoU --legend A B --out curves.png

A path may be a ``scalars.json``, a run folder (``<work_dir>/<timestamp>``)
or a work dir (its latest run that has scalars).
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

TRAIN_MARKERS = ('loss', 'lr')
NOT_CURVES = ('step', 'epoch', 'iter', 'data_time', 'time', 'memory', 'eta')


def find_scalars(path: str) -> List[str]:
    """The ``scalars.json`` files of a file, run folder or work dir.

    Args:
        path (str): A ``scalars.json``, ``<run>/`` or ``<work_dir>/``.

    Returns:
        list[str]: The file, or every run's file of a work dir in time
        order (a resumed training continues in a new run folder).

    Raises:
        FileNotFoundError: If none is found.
    """
    if osp.isfile(path):
        return [path]
    for pattern in ('vis_data/scalars.json', '*/vis_data/scalars.json'):
        found = sorted(glob.glob(osp.join(path, pattern)))
        if found:
            return found  # timestamps sort in time order
    raise FileNotFoundError(f'No vis_data/scalars.json under {path}')


def load_scalars(paths) -> Tuple[List[dict], List[dict]]:
    """Read training and validation records of one or several runs.

    Later runs (e.g. after ``--resume``) replace the records of the same
    iteration (training) or step (validation) of earlier ones.

    Args:
        paths (str | list[str]): ``scalars.json`` file(s), oldest first.

    Returns:
        tuple[list[dict], list[dict]]: Training records (with ``iter``)
        and validation records (with ``step``), sorted by them.
    """
    if isinstance(paths, str):
        paths = [paths]
    train, val = {}, {}
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                record = json.loads(line)
                # training records: lr and the losses (``loss``,
                # ``decode.loss_ce``, ...); validation records: metrics
                is_train = any(
                    k.split('.')[-1].startswith(TRAIN_MARKERS)
                    for k in record)
                if is_train:
                    train[record.get('iter', record.get('step'))] = record
                else:
                    val[record.get('step')] = record

    def ordered(records: dict) -> List[dict]:
        return [records[k] for k in sorted(records, key=lambda k: (
            k is None, k if k is not None else 0))]

    return ordered(train), ordered(val)


def default_keys(train: List[dict], val: List[dict]) -> List[str]:
    """``loss`` plus the headline metrics present (oIoU, mIoU)."""
    keys = []
    if any('loss' in r for r in train):
        keys.append('loss')
    for key in ('oIoU', 'mIoU'):
        if any(key in r for r in val):
            keys.append(key)
    if not keys:  # anything numeric
        seen = {
            k
            for r in train + val for k, v in r.items()
            if isinstance(v, (int, float)) and k not in NOT_CURVES
        }
        keys = sorted(seen)
    return keys


def curve(train: List[dict], val: List[dict],
          key: str) -> Tuple[List[float], List[float], str]:
    """x, y and the x label of ``key`` (training by iteration, metrics by
    validation step)."""
    points = [(r['iter'] if 'iter' in r else r.get('step'), r[key])
              for r in train if key in r]
    if points:
        label = 'iteration'
    else:
        points = [(r.get('step'), r[key]) for r in val if key in r]
        label = 'validation step (epoch or iteration)'
    points = [(x, y) for x, y in points if x is not None]
    return [p[0] for p in points], [p[1] for p in points], label


def plot(runs: Dict[str, Tuple[List[dict], List[dict]]],
         keys: Sequence[str],
         out: str,
         title: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """Draw one panel per key, one line per run, and save it.

    Args:
        runs (dict): Legend name -> (training, validation) records.
        keys (Sequence[str]): Keys to plot.
        out (str): Output image (PNG, PDF, ...).
        title (str, optional): Figure title. Defaults to None.

    Returns:
        dict: Run -> key -> last value (for the summary).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(keys), 1, figsize=(7, 3 * len(keys)), squeeze=False)
    summary = {}
    for ax, key in zip(axes[:, 0], keys):
        plotted = False
        for name, (train, val) in runs.items():
            xs, ys, xlabel = curve(train, val, key)
            if not xs:
                continue
            marker = 'o' if len(xs) < 30 else None
            ax.plot(xs, ys, label=name, marker=marker)
            ax.set_xlabel(xlabel)
            summary.setdefault(name, {})[key] = ys[-1]
            plotted = True
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if plotted and len(runs) > 1:
            ax.legend()
        if not plotted:
            ax.text(0.5, 0.5, f'no "{key}" in the logs', ha='center',
                    transform=ax.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return summary


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot loss and metric curves from scalars.json')
    parser.add_argument(
        'paths', nargs='+', help='scalars.json files, run folders or work '
        'dirs')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='keys to plot (default: loss and the oIoU/mIoU present)')
    parser.add_argument(
        '--legend', nargs='+', help='one name per path (default: the paths)')
    parser.add_argument(
        '--out', default='curves.png', help='output image. Default: '
        'curves.png')
    parser.add_argument('--title', help='figure title')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.legend and len(args.legend) != len(args.paths):
        sys.exit(f'--legend has {len(args.legend)} names for '
                 f'{len(args.paths)} paths')
    names = args.legend or args.paths
    runs = {}
    for name, path in zip(names, args.paths):
        try:
            runs[name] = load_scalars(find_scalars(path))
        except FileNotFoundError as e:
            sys.exit(str(e))
    keys = args.keys
    if not keys:
        keys = []
        for train, val in runs.values():
            keys += [k for k in default_keys(train, val) if k not in keys]
    if not keys:
        sys.exit('Nothing to plot: the logs hold no numeric values')
    summary = plot(runs, keys, args.out, args.title)
    print(f'wrote {args.out}')
    for name, values in summary.items():
        last = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
        print(f'{name}: last {last}')


if __name__ == '__main__':
    main()
