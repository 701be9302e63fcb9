"""Evaluate checkpoints on one split of their config, as ``tools/test.py``
does (the config's runner, test loop and ``RRSISMetric``; the checkpoint
loaded strictly and checked), with the expressions as they are or
shuffled across the split.

Used by ``tools/analysis_tools/language_ablation.py`` (true against
shuffled expressions) and ``tools/analysis_tools/benchmark_table.py``
(several models on the same split, the RRSIS paper's table).
"""
import copy
import hashlib
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.model import is_model_wrapper

from mmrrsis.utils.config_utils import type_name

from .runner import build_runner

SPLITS = ('train', 'val', 'test')


class SplitMismatchError(ValueError):
    """Models meant to be compared were evaluated on different samples."""


def split_test_config(cfg: Config,
                      split: str,
                      work_dir: str,
                      metric_options: Optional[dict] = None) -> Config:
    """A copy of ``cfg`` whose test loop evaluates ``split``.

    The split's dataloader and evaluator become the test ones; training
    settings and the drawing hook are dropped; nothing is loaded by the
    runner (the caller loads the checkpoint strictly).

    Args:
        cfg (Config): The full config.
        split (str): ``'val'``, ``'test'`` (or ``'train'``, scored with the
            val evaluator).
        work_dir (str): Where the runner logs.
        metric_options (dict, optional): Set on the evaluator (e.g.
            ``area_bins``); it must be an ``RRSISMetric``. Defaults to None.

    Returns:
        Config: The new config.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    cfg = copy.deepcopy(cfg)
    loader = cfg.get(f'{split}_dataloader')
    if not loader:
        raise ValueError(f'The config has no {split}_dataloader.')
    evaluator = cfg.get(f'{split}_evaluator') or cfg.get('val_evaluator')
    if metric_options:
        if not isinstance(evaluator, dict) or type_name(
                evaluator) != 'RRSISMetric':
            raise ValueError(
                f'The {split} evaluator of the config is {evaluator!r}; '
                'these scores come from RRSISMetric only.')
        evaluator = dict(evaluator, **metric_options)
    cfg.test_dataloader = loader
    cfg.test_evaluator = evaluator
    cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.resume = False
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler', 'val_dataloader', 'val_cfg',
                'val_evaluator'):
        cfg.pop(key, None)
    cfg.default_hooks.pop('visualization', None)
    return cfg


class SplitEvaluator:
    """One checkpoint on one split of its config, ready to be scored.

    Args:
        config (str | Config): The config (file).
        checkpoint (str): The weights, read without running code from them
            and loaded strictly (``unsafe_load`` unpickles completely).
        split (str): ``'val'`` or ``'test'``.
        work_dir (str): Where the runner logs.
        cfg_options (dict, optional): Config overrides. Defaults to None.
        metric_options (dict, optional): ``RRSISMetric`` settings for this
            run (e.g. ``area_bins``). Defaults to None.
        unsafe_load (bool): Defaults to False.
    """

    def __init__(self,
                 config,
                 checkpoint: str,
                 split: str = 'test',
                 work_dir: str = 'work_dirs/split_evaluation',
                 cfg_options: Optional[dict] = None,
                 metric_options: Optional[dict] = None,
                 unsafe_load: bool = False) -> None:
        from mmrrsis.apis import check_text_model, load_checkpoint_checked
        cfg = config if isinstance(config, Config) else Config.fromfile(
            config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        self.config_name = getattr(cfg, 'filename', None) or str(config)
        self.split = split
        self.cfg = split_test_config(cfg, split, work_dir, metric_options)
        self.runner = build_runner(self.cfg)
        model = self.runner.model
        if is_model_wrapper(model):
            model = model.module
        check_text_model(model, self.config_name)
        # the config too: converted weights' requirements are checked
        load_checkpoint_checked(
            model, checkpoint, unsafe_load=unsafe_load, cfg=self.cfg)

    def run(self, shuffle_seed: Optional[int] = None) -> Dict[str, float]:
        """Score the split.

        Args:
            shuffle_seed (int, optional): Give every sample the expression
                of another sample of the split
                (:class:`~mmrrsis.datasets.ShuffledTextDataset`, this
                seed); None keeps the expressions. Defaults to None.

        Returns:
            dict[str, float]: The metrics of the config's ``RRSISMetric``.
        """
        loader = copy.deepcopy(self.cfg.test_dataloader)
        if shuffle_seed is not None:
            loader.dataset = dict(
                type='ShuffledTextDataset',
                dataset=loader.dataset,
                seed=shuffle_seed)
        self.runner._test_dataloader = loader
        self.runner._test_loop = copy.deepcopy(self.cfg.test_cfg)
        return dict(self.runner.test())

    def samples(self) -> List[tuple]:
        """(image, expression, ref id, sentence id, category) of every
        sample of the split, in order (from the last run's dataset; the
        true expressions also after a shuffled run)."""
        dataset = self.runner.test_dataloader.dataset
        keys = []
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            keys.append((osp.basename(str(info.get('img_path'))),
                         info.get('original_text', info.get('text')),
                         info.get('ref_id'), info.get('sent_id'),
                         info.get('category')))
        return keys


def fingerprint(samples: Sequence[tuple]) -> str:
    """A short hash of a split's samples (see
    :meth:`SplitEvaluator.samples`)."""
    digest = hashlib.sha1(repr(list(samples)).encode('utf-8'))
    return digest.hexdigest()[:12]


def check_same_split(runs: Sequence[dict]) -> None:
    """Raise :class:`SplitMismatchError` unless every run scored the same
    samples.

    Args:
        runs (Sequence[dict]): ``name``, ``config``, ``num_samples`` and
            ``fingerprint`` of each run.
    """
    first = runs[0]
    for run in runs[1:]:
        if (run['num_samples'], run['fingerprint']) != (
                first['num_samples'], first['fingerprint']):
            raise SplitMismatchError(
                f'{run["name"]} ({run["config"]}) was scored on '
                f'{run["num_samples"]} samples ({run["fingerprint"]}), '
                f'{first["name"]} ({first["config"]}) on '
                f'{first["num_samples"]} ({first["fingerprint"]}): the '
                'table compares models on the same samples only. Point the '
                'configs at the same data (--cfg-options '
                'test_dataloader.dataset.data_root=...) and split.')


def parse_model_spec(spec: str) -> Dict[str, str]:
    """Read ``[NAME=]CONFIG.py:CHECKPOINT``.

    Args:
        spec (str): E.g. ``'LSCM=configs/lscm_synthetic.py:ckpt.pth'``;
            without a name, the config's file name stem names the model.

    Returns:
        dict[str, str]: ``name``, ``config`` and ``checkpoint``.
    """
    name = None
    head, sep, checkpoint = spec.partition('.py:')
    if '=' in head:
        name, head = head.split('=', 1)
    if not sep or not head or not checkpoint:
        raise ValueError(
            f'{spec!r} is not [NAME=]CONFIG.py:CHECKPOINT (a config file, '
            'a colon, its checkpoint).')
    config = head + '.py'
    return dict(
        name=name or osp.splitext(osp.basename(config))[0],
        config=config,
        checkpoint=checkpoint)


def benchmark_models(specs: Sequence[str],
                     split: str = 'test',
                     work_dir: str = 'work_dirs/benchmark_table',
                     metric_options: Optional[dict] = None,
                     shuffle_seed: Optional[int] = None,
                     cfg_options: Optional[dict] = None,
                     unsafe_load: bool = False) -> Dict[str, list]:
    """Evaluate several checkpoints on the same split, one after another
    in this process.

    Args:
        specs (Sequence[str]): ``[NAME=]CONFIG.py:CHECKPOINT`` each.
        split (str): Defaults to ``'test'``.
        work_dir (str): Each model logs under ``<work_dir>/<name>``.
        metric_options (dict, optional): ``RRSISMetric`` settings for all
            (e.g. ``area_bins``). Defaults to None.
        shuffle_seed (int, optional): Also score every model with the
            expressions shuffled across the split (this seed). Defaults to
            None (not).
        cfg_options (dict, optional): Overrides for every config (e.g. the
            data root). Defaults to None.
        unsafe_load (bool): Defaults to False.

    Returns:
        dict[str, list]: ``rows``: one dict per model and text
        (``name``, ``config``, ``checkpoint``, ``text`` = ``'true'`` or
        ``'shuffled'``, ``metrics``); ``runs``: one dict per model
        (``name``, ``config``, ``num_samples``, ``fingerprint``) and
        ``categories``: sample count per category of the split.

    Raises:
        SplitMismatchError: The models' splits hold different samples.
    """
    rows, runs, categories = [], [], {}
    names = set()
    for spec in specs:
        model = parse_model_spec(spec)
        if model['name'] in names:
            raise ValueError(f'Two models are named {model["name"]!r}; '
                             'name them: NAME=CONFIG.py:CHECKPOINT.')
        names.add(model['name'])
        evaluator = SplitEvaluator(
            model['config'],
            model['checkpoint'],
            split,
            osp.join(work_dir, model['name']),
            cfg_options=cfg_options,
            metric_options=metric_options,
            unsafe_load=unsafe_load)
        rows.append(dict(model, text='true', metrics=evaluator.run()))
        samples = evaluator.samples()
        runs.append(
            dict(
                name=model['name'],
                config=model['config'],
                num_samples=len(samples),
                fingerprint=fingerprint(samples)))
        if not categories:
            for sample in samples:
                if sample[-1] is not None:
                    categories[sample[-1]] = categories.get(sample[-1],
                                                            0) + 1
        if shuffle_seed is not None:
            rows.append(
                dict(
                    model,
                    text='shuffled',
                    metrics=evaluator.run(shuffle_seed)))
    check_same_split(runs)
    return dict(rows=rows, runs=runs, categories=categories)


__all__ = [
    'SPLITS', 'SplitMismatchError', 'split_test_config', 'SplitEvaluator',
    'fingerprint', 'check_same_split', 'parse_model_spec',
    'benchmark_models'
]
