"""Measure inference speed, training-step time and peak memory of a config.

For a config at a given input size and batch size, on CPU or CUDA:

- inference: images per second of ``model.test_step`` (pre-processing,
  text encoding, forward and post-processing), after warm-up;
- training step: mean seconds of the forward (with the loss), the backward
  and the optimizer step (the config's optimizer wrapper), and their sum;
- peak memory: on CUDA the largest ``torch.cuda.max_memory_allocated`` of
  each phase; on CPU the process's peak resident set size
  (``resource.getrusage``) after each phase (it never decreases, so the
  training figure includes the inference peak when that was larger).

The input is a random image and a dummy expression (``--text``). Results
are printed and written as JSON (``--out``).

``--offline`` builds every config without network access: BERT from
``BertConfig`` (bert-base dimensions for ``bert-base-*``, random weights)
with the packaged tokenizer vocabulary, and no pretrained backbone, so the
Swin-B / BERT-base configs can be timed anywhere::

    python tools/analysis_tools/benchmark.py configs/lgce_swin-b.py \
        --offline --size 480 --batch-size 2 --iters 5 --out bench.json
    python tools/analysis_tools/benchmark.py CONFIG --device cuda --amp
"""
import argparse
import json
import logging
import os.path as osp
import platform
import resource
import sys
import time
from contextlib import nullcontext
from typing import Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.registry import MODELS

DUMMY_TEXT = 'the white car parked next to the building on the left'

#: BertConfig overrides of known checkpoints (``{}`` is bert-base)
BERT_DIMS = {
    'bert-base': {},
    'bert-large': dict(
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096),
}


def make_offline(cfg) -> None:
    """Let ``cfg.model`` build without downloads, in place.

    Every ``BertTextEncoder`` without ``bert_config`` gets the dimensions of
    its ``pretrained`` model (a local ``config.json``, else bert-base or
    bert-large by name) with random weights, and the packaged vocabulary
    when its tokenizer would come from the hub; ``Pretrained`` init_cfgs are
    dropped.
    """

    def visit(node):
        if isinstance(node, dict):
            kind = str(node.get('type', ''))
            if kind.split('.')[-1] == 'BertTextEncoder':
                _offline_bert(node)
            init_cfg = node.get('init_cfg')
            if isinstance(init_cfg, dict) and init_cfg.get(
                    'type') == 'Pretrained':
                node['init_cfg'] = None
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg.model)
    cfg.model.pop('pretrained', None)


def _offline_bert(node: dict) -> None:
    pretrained = node.get('pretrained')
    local = isinstance(pretrained, str) and osp.isdir(pretrained)
    if node.get('bert_config') is None:
        if local and osp.isfile(osp.join(pretrained, 'config.json')):
            with open(osp.join(pretrained, 'config.json')) as f:
                node['bert_config'] = json.load(f)
        else:
            name = str(pretrained or '')
            dims = next(
                (v for k, v in BERT_DIMS.items() if k in name), {})
            node['bert_config'] = dict(dims)
    if node.get('vocab') is None and not local:
        node['vocab'] = 'mmrrsis-tiny'


def dummy_batch(batch_size: int, size: int, text: str) -> dict:
    """A batch of random images, masks and one expression for each.

    Args:
        batch_size (int): B.
        size (int): Image side S.
        text (str): The expression of every sample.

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
                flip=False))
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
    if device.startswith('cuda'):
        wrapper.update(
            type='AmpOptimWrapper',
            dtype='float16' if amp == 'fp16' else 'bfloat16',
            loss_scale='dynamic' if amp == 'fp16' else 1.0)
    else:
        wrapper.update(type='AutocastOptimWrapper', dtype='bfloat16')
    return wrapper


def benchmark(cfg,
              size: int = 480,
              batch_size: int = 1,
              device: str = 'cpu',
              warmup: int = 2,
              iters: int = 5,
              amp: Optional[str] = None,
              text: str = DUMMY_TEXT,
              train: bool = True,
              inference: bool = True) -> dict:
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

    Returns:
        dict: Settings, parameter counts and the measurements.
    """
    if amp == 'fp16' and not device.startswith('cuda'):
        raise ValueError('fp16 autocast needs CUDA; use --amp bf16 on CPU')
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    model = MODELS.build(cfg.model)
    if not device.startswith('cuda'):
        model = revert_sync_batchnorm(model)
    model.to(device)
    timer = Timer(device)
    result = dict(
        config=cfg.filename,
        device=device if device.startswith('cuda') else
        f'cpu ({platform.processor() or platform.machine()}, '
        f'{torch.get_num_threads()} threads)',
        size=size,
        batch_size=batch_size,
        amp=amp,
        warmup=warmup,
        iters=iters,
        text=text,
        params=sum(p.numel() for p in model.parameters()),
        trainable_params=sum(p.numel() for p in model.parameters()
                             if p.requires_grad))
    data = dummy_batch(batch_size, size, text)

    if inference:
        model.eval()
        if device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
        with torch.no_grad(), autocast(device, amp):
            for _ in range(warmup):
                model.test_step(data)
            start = timer.now()
            for _ in range(iters):
                model.test_step(data)
            seconds = timer.now() - start
        result['inference'] = dict(
            seconds_per_iter=seconds / iters,
            images_per_second=batch_size * iters / seconds,
            peak_memory_mb=peak_memory_mb(device))

    if train:
        model.train()
        # mmengine logs every parameter's options (or skip) while building
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            optim_wrapper = build_optim_wrapper(
                model, optim_wrapper_cfg(cfg, device, amp))
        finally:
            logger.setLevel(level)
        if device.startswith('cuda'):
            torch.cuda.reset_peak_memory_stats()
        times = dict(forward=0.0, backward=0.0, optimizer=0.0)
        for i in range(warmup + iters):
            t0 = timer.now()
            with optim_wrapper.optim_context(model):
                batch = model.data_preprocessor(data, True)
                losses = model(**batch, mode='loss')
                loss, _ = model.parse_losses(losses)
            t1 = timer.now()
            optim_wrapper.backward(loss)
            t2 = timer.now()
            optim_wrapper.step()
            optim_wrapper.zero_grad()
            t3 = timer.now()
            if i >= warmup:
                times['forward'] += t1 - t0
                times['backward'] += t2 - t1
                times['optimizer'] += t3 - t2
        step = {f'{k}_seconds': v / iters for k, v in times.items()}
        step['step_seconds'] = sum(times.values()) / iters
        step['images_per_second'] = batch_size / step['step_seconds']
        step['peak_memory_mb'] = peak_memory_mb(device)
        step['loss'] = float(loss.detach())
        step['optim_wrapper'] = type(optim_wrapper).__name__
        result['train_step'] = step
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
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, key=value')
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
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.offline:
        make_offline(cfg)
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
        inference=not args.no_inference)
    print(f"{result['config']}: {result['params'] / 1e6:.2f}M parameters "
          f"({result['trainable_params'] / 1e6:.2f}M trainable), input "
          f"{args.batch_size}x3x{args.size}x{args.size}, {result['device']}"
          f", amp={args.amp}")
    if 'inference' in result:
        inf = result['inference']
        print(f"inference: {inf['images_per_second']:.2f} images/s "
              f"({inf['seconds_per_iter'] * 1e3:.1f} ms/batch), peak "
              f"memory {inf['peak_memory_mb']:.0f} MiB")
    if 'train_step' in result:
        step = result['train_step']
        print(f"train step: {step['step_seconds'] * 1e3:.1f} ms (forward "
              f"{step['forward_seconds'] * 1e3:.1f}, backward "
              f"{step['backward_seconds'] * 1e3:.1f}, optimizer "
              f"{step['optimizer_seconds'] * 1e3:.1f}), peak memory "
              f"{step['peak_memory_mb']:.0f} MiB")
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
