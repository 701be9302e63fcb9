"""Command-line arguments shared by the tools and demos."""
import argparse
from typing import Optional


def add_unsafe_load_arg(parser: argparse.ArgumentParser,
                        what: str = 'the checkpoint') -> None:
    """Add the opt-in ``--unsafe-load`` (full unpickling) to a parser.

    Without it, every tool reads checkpoints as weights and data only
    (:func:`mmrrsis.compat.load_checkpoint_file`); the flag is passed on as
    ``unsafe_load=True``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        what (str): What the tool reads, for the help text. Defaults to
            'the checkpoint'.
    """
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help=f'unpickle {what} completely (runs code named in the file; '
        'only for files you trust, e.g. written by plain mmengine). '
        'Without it, checkpoints are read as weights and data only')


#: ``--splits`` names and the dataloaders they select.
SPLIT_LOADERS = dict(
    train='train_dataloader', val='val_dataloader', test='test_dataloader')


def add_dataset_config_args(parser: argparse.ArgumentParser,
                            splits=tuple(SPLIT_LOADERS)) -> None:
    """Add ``config``, ``--splits`` and ``--cfg-options`` to a tool that
    reads a config's datasets; read them back with
    :func:`dataset_config_from_args`.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        splits (Sequence[str]): The default of ``--splits``. Defaults to
            all three.
    """
    from mmengine.config import DictAction
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--splits', nargs='+', choices=list(SPLIT_LOADERS),
        default=list(splits),
        help=f'whose datasets. Defaults to {" ".join(splits)}.')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value')


def dataset_config_from_args(args: argparse.Namespace):
    """The config (overrides applied, registries ready) and the dataloader
    keys of :func:`add_dataset_config_args`' arguments.

    Returns:
        tuple[Config, list[str]]: The config and e.g.
        ``['train_dataloader']``.
    """
    from mmengine.config import Config

    from .set_env import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg, [SPLIT_LOADERS[s] for s in args.splits]


def add_scaling_args(parser: argparse.ArgumentParser,
                     percentiles_where: str = 'per image') -> None:
    """Add ``--bands --scale --percentiles --min --max`` to a parser.

    The flags of :class:`~mmrrsis.datasets.band_scaling.BandScaling` (and
    ``LoadRSImageFromFile``); read them back with
    :func:`scaling_from_args`.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        percentiles_where (str): Where the percentiles are computed, for
            the help text. Defaults to 'per image'.
    """
    group = parser.add_argument_group(
        'bands and scaling (images that are not 8-bit RGB)')
    group.add_argument(
        '--bands', type=int, nargs=3, metavar=('R', 'G', 'B'),
        help='1-based bands that become R, G, B, e.g. 3 2 1 for blue, '
        'green, red, NIR data')
    group.add_argument(
        '--scale', choices=['percentile', 'minmax'],
        help='scaling to 8 bits (needed for non-uint8 images)')
    group.add_argument(
        '--percentiles', type=float, nargs=2, metavar=('LOW', 'HIGH'),
        help=f'of --scale percentile ({percentiles_where}). Default: 2 98')
    group.add_argument(
        '--min', type=float, nargs='+', dest='min_value',
        help='--scale minmax: value(s) mapped to 0 (one, or one per band)')
    group.add_argument(
        '--max', type=float, nargs='+', dest='max_value',
        help='--scale minmax: value(s) mapped to 255')


def _one_or_list(values):
    if values is None:
        return None
    return values[0] if len(values) == 1 else list(values)


def scaling_from_args(args: argparse.Namespace) -> Optional[dict]:
    """The ``scaling`` dict of the flags of :func:`add_scaling_args`.

    Args:
        args (argparse.Namespace): Parsed arguments.

    Returns:
        dict | None: The given keys of ``bands``, ``scale``,
        ``percentiles``, ``min_value``, ``max_value``; None when no flag
        was given.

    Raises:
        ValueError: ``--percentiles`` without ``--scale percentile``.
    """
    scaling = dict(
        bands=tuple(args.bands) if args.bands else None,
        scale=args.scale,
        percentiles=tuple(args.percentiles) if args.percentiles else None,
        min_value=_one_or_list(args.min_value),
        max_value=_one_or_list(args.max_value))
    scaling = {k: v for k, v in scaling.items() if v is not None}
    if 'percentiles' in scaling and args.scale != 'percentile':
        raise ValueError('--percentiles needs --scale percentile')
    return scaling or None
