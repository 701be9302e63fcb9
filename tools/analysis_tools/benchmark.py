"""Measure inference speed, training-step time and peak memory of a config.

For a config at a given input size and batch size, on CPU or CUDA:

- inference: images per second of ``model.test_step`` (pre-processing,
  text encoding, forward and post-processing), after warm-up;
- training step: seconds of the forward (with the loss), the backward and
  the optimizer step (the config's optimizer wrapper), and their sum; the
  mean (``step_seconds``), the median and the minimum over the measured
  iterations, and every iteration's time; also the median CPU time of the
  process per step (``median_cpu_seconds``, all threads), which other jobs
  on a shared machine disturb less than the wall clock;
- peak memory: on CUDA the largest ``torch.cuda.max_memory_allocated`` of
  each phase; on CPU the process's peak resident set size
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, also reported as
  ``peak_rss_mb`` on CUDA) after each phase. It never decreases, so the
  training figure includes the inference peak when that was larger: use
  ``--no-inference`` to measure the training step alone.

The input is a random image and a dummy expression (``--text``). Results
are printed and written as JSON (``--out``).

``--offline`` builds every config without network access
(:func:`mmrrsis.apis.make_offline`): each text encoder from its own
``offline_cfg(node, 'random')`` (BERT: the dimensions of its pretrained
model, random weights, the packaged vocabulary unless its tokenizer is on
the machine) and no pretrained backbone, so the Swin-B / BERT-base
configs can be timed anywhere::

    python tools/analysis_tools/benchmark.py configs/lgce_swin-b.py \
        --offline --size 480 --batch-size 2 --iters 5 --out bench.json
    python tools/analysis_tools/benchmark.py CONFIG --device cuda --amp

A/B comparisons (``--variant NAME [KEY=VALUE ...]``, repeated): every
variant is the config with its own overrides (the ``--cfg-options``
syntax; ``amp=bf16|fp16|none`` picks its precision and
``compile=backbone,decode_head`` compiles those sub-modules with
:func:`torch.compile`). The variants share one set of weights and, where
their optimizers match, one optimizer state, and run in turn, step by
step, so a shared or noisy machine slows them alike; compare their
medians. Peak memory is the process's, so measure each setting's memory
in a run of its own::

    python tools/analysis_tools/benchmark.py configs/lavt_swin-b.py \
        --offline --no-inference --warmup 1 --iters 4 \
        --variant plain optim_wrapper.optimizer.fused=False \
        --variant fused optim_wrapper.optimizer.fused=True
"""
import argparse
import copy
import json
import logging
import os.path as osp
import platform
import resource
import statistics
import sys
import time
from contextlib import nullcontext
from typing import List, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.apis import InferencePipeline, make_offline
from mmrrsis.registry import MODELS
from mmrrsis.utils import set_malloc_mmap_threshold

DUMMY_TEXT = 'the white car parked next to the building on the left'

def dummy_batch(batch_size: int,
                size: int,
                text: str,
                text_meta: Optional[dict] = None) -> dict:
    """A batch of random images, masks and one expression for each.

    Args:
        batch_size (int): B.
        size (int): Image side S.
        text (str): The expression of every sample.
        text_meta (dict, optional): More metainfo of the expression, for
            a text encoder with ``meta_keys`` (what the config's text
            steps add, e.g. FIANet's ``phrase_tokens``). Defaults to None.

    Returns:
        dict: ``inputs`` (B tensors (3, S, S) uint8) and ``data_samples``.
    """
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=gen,
                          dtype=torch.uint8))
        sample = SegDataSample(
            metainfo=dict(
                text=text,
                ori_shape=(size, size),
                img_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1.0, 1.0),
                flip=False,
                **(text_meta or {})))
        gt = torch.zeros(1, size, size, dtype=torch.long)
        gt[:, size // 4:size // 2, size // 4:size // 2] = 1
        sample.gt_sem_seg = PixelData(data=gt)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


class Timer:
    """Wall-clock seconds, synchronising CUDA before reading the clock."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith('cuda')

    def now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()


def peak_memory_mb(device: str) -> float:
    """Peak memory in MiB: CUDA max allocated, or the process's peak RSS."""
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / 2**20 if sys.platform == 'darwin' else rss / 2**10


def autocast(device: str, amp: Optional[str]):
    if amp is None:
        return nullcontext()
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16)[amp]
    return torch.autocast(device_type=device.split(':')[0], dtype=dtype)


def optim_wrapper_cfg(cfg, device: str, amp: Optional[str]) -> dict:
    """The config's optimizer wrapper, switched to mixed precision if asked.
    """
    wrapper = dict(cfg.get('optim_wrapper') or dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-5)))
    if amp is None:
        return wrapper
    if wrapper.get('type') == 'StepInBackwardOptimWrapper':
        if amp == 'fp16':
            raise ValueError('StepInBackwardOptimWrapper takes bf16 only '
                             '(fp16 needs loss scaling before the update)')
        wrapper.update(dtype='bfloat16')
        return wrapper
    if device.startswith('cuda'):
        wrapper.update(
            type='AmpOptimWrapper',
            dtype='float16' if amp == 'fp16' else 'bfloat16',
            loss_scale='dynamic' if amp == 'fp16' else 1.0)
    else:
        wrapper.update(type='AutocastOptimWrapper', dtype='bfloat16')
    return wrapper


def peak_rss_mb() -> float:
    """The process's peak resident set size in MiB (``ru_maxrss``)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return rss / 2**20 if sys.platform == 'darwin' else rss / 2**10


class Variant:
    """One setting of an A/B comparison: a config, a precision, a name.

    Args:
        name (str): Shown in the results.
        cfg (Config): The config with the variant's overrides applied.
        amp (str, optional): 'bf16', 'fp16' or None. Defaults to None.
        options (dict, optional): The overrides, for the record.
        compile (Sequence[str]): Sub-modules of the model (attribute
            names) to compile with :func:`torch.compile`. Defaults to ().
    """

    def __init__(self, name: str, cfg, amp: Optional[str] = None,
                 options: Optional[dict] = None, compile=()) -> None:
        self.name = name
        self.cfg = cfg
        self.amp = amp
        self.options = dict(options or {})
        self.compile = list(compile)
        self.model = None
        self.optim_wrapper = None


def parse_variant(tokens: List[str],
                  base_cfg,
                  default_amp: Optional[str] = None) -> Variant:
    """``NAME [KEY=VALUE ...]`` -> :class:`Variant` on a copy of the config.

    Values are parsed as by ``--cfg-options`` (numbers, booleans, None,
    lists, tuples). Two keys are not config entries: ``amp`` (``bf16``,
    ``fp16`` or ``none``; default ``default_amp``) and ``compile``
    (comma-separated sub-modules).
    """
    name, *pairs = tokens
    options, amp, compile_ = {}, default_amp, ()
    for pair in pairs:
        if '=' not in pair:
            raise ValueError(f'variant {name}: "{pair}" is not KEY=VALUE')
        key, value = pair.split('=', 1)
        if key == 'amp':
            if value not in ('bf16', 'fp16', 'none'):
                raise ValueError(f'variant {name}: amp must be bf16, fp16 '
                                 f'or none, got "{value}"')
            amp = None if value == 'none' else value
        elif key == 'compile':
            compile_ = [m for m in value.split(',') if m]
        else:
            options[key] = DictAction._parse_iterable(value)
    cfg = copy.deepcopy(base_cfg)
    if options:
        cfg.merge_from_dict(options)
    return Variant(name, cfg, amp, options, compile_)


def _build_optim_wrapper(model, cfg, device: str, amp: Optional[str]):
    # mmengine logs every parameter's options (or skip) while building
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return build_optim_wrapper(model, optim_wrapper_cfg(cfg, device, amp))
    finally:
        logger.setLevel(level)


def _updates_in_backward(cfg) -> bool:
    wrapper = cfg.get('optim_wrapper') or {}
    return wrapper.get('type') == 'StepInBackwardOptimWrapper'


def _share_weights(model, owner) -> None:
    """Make ``model`` use the parameters and buffers of ``owner``."""
    own = {n: p.requires_grad for n, p in model.named_parameters()}
    other = {n: p.requires_grad for n, p in owner.named_parameters()}
    if own != other:
        raise ValueError('Variants must have the same parameters, and the '
                         'same ones trainable, to share weights.')
    model.load_state_dict(owner.state_dict(keep_vars=True), assign=True)


def _share_optimizer_state(wrapper, owner) -> None:
    """Share the optimizer state when both optimizers are the same kind
    (e.g. AdamW with and without ``fused``) on CPU; otherwise each keeps
    its own."""
    opt, other = wrapper.optimizer, owner.optimizer
    params = [p for g in opt.param_groups for p in g['params']]
    others = [p for g in other.param_groups for p in g['params']]
    on_cpu = all(p.device.type == 'cpu' for p in params)
    if (type(opt) is type(other) and on_cpu and len(params) == len(others)
            and all(a is b for a, b in zip(params, others))):
        opt.state = other.state


def _train_step(variant: Variant, data: dict, timer) -> tuple:
    model, wrapper = variant.model, variant.optim_wrapper
    cpu = time.process_time()
    t0 = timer.now()
    with wrapper.optim_context(model):
        batch = model.data_preprocessor(data, True)
        losses = model(**batch, mode='loss')
        loss, _ = model.parse_losses(losses)
    t1 = timer.now()
    wrapper.backward(loss)
    t2 = timer.now()
    wrapper.step()
    wrapper.zero_grad()
    t3 = timer.now()
    return t1 - t0, t2 - t1, t3 - t2, time.process_time() - cpu, loss


def _summary(times: List[tuple], batch_size: int) -> dict:
    """Mean, median and minimum of (forward, backward, optimizer) times,
    and the median CPU time of the process per step."""
    steps = [sum(t[:3]) for t in times]
    out = {
        f'{k}_seconds': statistics.fmean(t[i] for t in times)
        for i, k in enumerate(('forward', 'backward', 'optimizer'))
    }
    out['step_seconds'] = statistics.fmean(steps)
    out['median_step_seconds'] = statistics.median(steps)
    out['min_step_seconds'] = min(steps)
    for i, k in enumerate(('forward', 'backward', 'optimizer')):
        out[f'median_{k}_seconds'] = statistics.median(t[i] for t in times)
    out['iter_step_seconds'] = steps
    out['images_per_second'] = batch_size / out['median_step_seconds']
    # all threads' CPU seconds: less sensitive to other jobs on the machine
    # than the wall clock (the work itself, plus the threads' waiting)
    out['median_cpu_seconds'] = statistics.median(t[3] for t in times)
    return out


def benchmark(cfg,
              size: int = 480,
              batch_size: int = 1,
              device: str = 'cpu',
              warmup: int = 2,
              iters: int = 5,
              amp: Optional[str] = None,
              text: str = DUMMY_TEXT,
              train: bool = True,
              inference: bool = True,
              variants: Optional[List[Variant]] = None) -> dict:
    """Time inference and a training step of ``cfg.model``.

    Args:
        cfg (Config): The config (already made offline if needed).
        size (int): Input side. Defaults to 480.
        batch_size (int): Defaults to 1.
        device (str): 'cpu' or 'cuda[:i]'. Defaults to 'cpu'.
        warmup (int): Unmeasured iterations first. Defaults to 2.
        iters (int): Measured iterations. Defaults to 5.
        amp (str, optional): 'bf16' or 'fp16' (CUDA only) mixed precision.
            Defaults to None.
        text (str): The dummy expression. Defaults to :data:`DUMMY_TEXT`.
        train (bool): Time a training step. Defaults to True.
        inference (bool): Time inference. Defaults to True.
        variants (list[Variant], optional): Settings to compare, run in
            turn on shared weights (copies of the first one's for a
            ``StepInBackwardOptimWrapper``); ``cfg`` and ``amp`` are then
            unused.
            Defaults to None (one setting: ``cfg`` with ``amp``).

    Returns:
        dict: Settings, parameter counts and the measurements; with
        variants, each one's under ``variants[name]``, the first one's
        also at the top level.
    """
    if variants is None:
        variants = [Variant('default', cfg, amp)]
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f'Variant names must differ, got {names}')
    for v in variants:
        if v.amp == 'fp16' and not device.startswith('cuda'):
            raise ValueError(
                'fp16 autocast needs CUDA; use --amp bf16 on CPU')
    first = variants[0]
    init_default_scope(first.cfg.get('default_scope', 'mmrrsis'))
    for v in variants:
        model = MODELS.build(v.cfg.model)
        if not device.startswith('cuda'):
            model = revert_sync_batchnorm(model)
        model.to(device)
        if v is not first:
            if _updates_in_backward(v.cfg) or _updates_in_backward(
                    first.cfg):
                # its update hooks would fire in the others' backward
                model.load_state_dict(first.model.state_dict())
            else:
                _share_weights(model, first.model)
        for attr in v.compile:
            getattr(model, attr).compile()
        v.model = model
    model = first.model
    timer = Timer(device)
    result = dict(
        config=first.cfg.filename,
        device=device if device.startswith('cuda') else
        f'cpu ({platform.processor() or platform.machine()}, '
        f'{torch.get_num_threads()} threads)',
        size=size,
        batch_size=batch_size,
        amp=first.amp,
        warmup=warmup,
        iters=iters,
        text=text,
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters()
                             if p.requires_grad))
    per_variant = {
        v.name: dict(options=v.options, amp=v.amp, compile=v.compile)
        for v in variants
    }
    keys = getattr(getattr(model, 'text_encoder', None), 'meta_keys', ())
    text_meta = None
    if keys:  # what the test pipeline's text steps add, as inference does
        record = InferencePipeline(first.cfg).text_record(text)
        text_meta = {k: record[k] for k in keys if k in record}
    data = dummy_batch(batch_size, size, text, text_meta)

    if inference:
        seconds = {v.name: [] for v in variants}
        if device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
        with torch.no_grad():
            for v in variants:
                v.model.eval()
            for i in range(warmup + iters):
                for v in variants:
                    with autocast(device, v.amp):
                        start = timer.now()
                        v.model.test_step(data)
                        if i >= warmup:
                            seconds[v.name].append(timer.now() - start)
        for v in variants:
            s = seconds[v.name]
            per_variant[v.name]['inference'] = dict(
                seconds_per_iter=statistics.fmean(s),
                median_seconds_per_iter=statistics.median(s),
                images_per_second=batch_size / statistics.median(s),
                peak_memory_mb=peak_memory_mb(device),
                peak_rss_mb=peak_rss_mb())

    if train:
        for v in variants:
            v.model.train()
            v.optim_wrapper = _build_optim_wrapper(v.model, v.cfg, device,
                                                   v.amp)
            if v is not first:
                _share_optimizer_state(v.optim_wrapper, first.optim_wrapper)
        if device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
        times = {v.name: [] for v in variants}
        losses = {}
        for i in range(warmup + iters):
            for v in variants:
                *phases, loss = _train_step(v, data, timer)
                losses[v.name] = float(loss.detach())
                if i >= warmup:
                    times[v.name].append(tuple(phases))
        for v in variants:
            step = _summary(times[v.name], batch_size)
            step['peak_memory_mb'] = peak_memory_mb(device)
            step['peak_rss_mb'] = peak_rss_mb()
            step['loss'] = losses[v.name]
            step['optim_wrapper'] = type(v.optim_wrapper).__name__
            step['optimizer'] = dict(
                type=type(v.optim_wrapper.optimizer).__name__,
                fused=v.optim_wrapper.optimizer.defaults.get('fused'),
                foreach=v.optim_wrapper.optimizer.defaults.get('foreach'))
            per_variant[v.name]['train_step'] = step

    result.update({
        k: per_variant[first.name][k]
        for k in ('inference', 'train_step') if k in per_variant[first.name]
    })
    if len(variants) > 1:
        result['variants'] = per_variant
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark inference and training of a config')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--size', type=int, default=480, help='input side. Default: 480')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='Default: 1')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help="'cpu' or 'cuda[:i]'. Default: cuda when available")
    parser.add_argument(
        '--warmup', type=int, default=2, help='unmeasured iterations. '
        'Default: 2')
    parser.add_argument(
        '--iters', type=int, default=5, help='measured iterations. '
        'Default: 5')
    parser.add_argument(
        '--amp',
        nargs='?',
        const='bf16',
        choices=['bf16', 'fp16'],
        help='mixed precision: bf16 (default; CPU or CUDA) or fp16 (CUDA)')
    parser.add_argument(
        '--text', default=DUMMY_TEXT, help='the dummy expression')
    parser.add_argument(
        '--offline',
        action='store_true',
        help='build BERT from BertConfig with the packaged vocabulary and '
        'skip pretrained weights (nothing is downloaded)')
    parser.add_argument(
        '--no-train', action='store_true', help='skip the training step')
    parser.add_argument(
        '--no-inference', action='store_true', help='skip inference')
    parser.add_argument(
        '--threads', type=int, help='torch CPU threads (default: torch)')
    parser.add_argument(
        '--malloc-mmap-threshold',
        type=int,
        metavar='BYTES',
        help='fix glibc\'s mmap threshold first (e.g. 1048576): freed '
        'activations leave the resident set (as env_cfg.'
        'malloc_mmap_threshold in a config)')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        metavar='NAME [KEY=VALUE',
        help='a setting to compare (repeat the option): a name, then '
        'config overrides as in --cfg-options, amp=bf16|fp16|none, '
        'compile=MODULE[,MODULE]; the variants run in turn on shared '
        'weights (--amp is their default precision)')
    args = parser.parse_args(argv)
    for name in ('size', 'batch_size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    if args.warmup < 0:
        parser.error('--warmup must be at least 0')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'Config file not found: {args.config}')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.malloc_mmap_threshold is not None:
        try:
            set_malloc_mmap_threshold(args.malloc_mmap_threshold)
        except ValueError as e:
            sys.exit(f'error: {e}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    variants = None
    if args.variant:
        try:
            variants = [
                parse_variant(t, cfg, args.amp) for t in args.variant
            ]
        except ValueError as e:
            sys.exit(f'error: {e}')
    if args.offline:
        make_offline(cfg.model)
        for v in variants or []:
            make_offline(v.cfg.model)
    result = benchmark(
        cfg,
        size=args.size,
        batch_size=args.batch_size,
        device=args.device,
        warmup=args.warmup,
        iters=args.iters,
        amp=args.amp,
        text=args.text,
        train=not args.no_train,
        inference=not args.no_inference,
        variants=variants)
    result['malloc_mmap_threshold'] = args.malloc_mmap_threshold
    print(f"{result['config']}: {result['params'] / 1e6:.2f}M parameters "
          f"({result['trainable_params'] / 1e6:.2f}M trainable), input "
          f"{args.batch_size}x3x{args.size}x{args.size}, {result['device']}"
          f", amp={result['amp']}")
    runs = result.get('variants') or {'': result}
    base = None
    for name, run in runs.items():
        prefix = f'[{name}] ' if name else ''
        if 'inference' in run:
            inf = run['inference']
            print(f"{prefix}inference: {inf['images_per_second']:.2f} "
                  f"images/s ({inf['median_seconds_per_iter'] * 1e3:.1f} "
                  f"ms/batch, median), peak memory "
                  f"{inf['peak_memory_mb']:.0f} MiB")
        if 'train_step' in run:
            step = run['train_step']
            med = step['median_step_seconds']
            base = base or med
            print(f"{prefix}train step: median {med * 1e3:.1f} ms, min "
                  f"{step['min_step_seconds'] * 1e3:.1f} ms (forward "
                  f"{step['median_forward_seconds'] * 1e3:.1f}, backward "
                  f"{step['median_backward_seconds'] * 1e3:.1f}, optimizer "
                  f"{step['median_optimizer_seconds'] * 1e3:.1f}; CPU "
                  f"{step['median_cpu_seconds']:.2f} s), "
                  f"{step['images_per_second']:.3f} images/s, peak memory "
                  f"{step['peak_memory_mb']:.0f} MiB"
                  + (f', {base / med:.2f}x the first' if name else ''))
    if len(runs) > 1:
        print('Peak memory is the whole process\'s: measure a setting\'s '
              'memory in a run of its own.')
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
