"""Measure the data loading throughput of a config's dataloader.

Loads batches exactly as training does (the config's dataset, pipeline,
sampler, ``num_workers``, collate) without a model, and reports samples per
second after a warm-up. ``--generate N`` first writes a generated
RefSegRS-layout set of N images (``--size``, 512 by default) to
``--data-root`` (or a temporary folder), so the number can be measured on
any machine.

Example::

    python tools/analysis_tools/benchmark_dataloader.py \
        configs/_base_/datasets/refsegrs.py --generate 100 --num-workers 2
"""
import argparse
import shutil
import tempfile
import time

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark a dataloader (samples/s, no model)')
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--data-root', help='override the data_root')
    parser.add_argument(
        '--generate', type=int, metavar='N',
        help='first generate a RefSegRS-layout set of N images in '
        '--data-root (default: a temporary folder, removed afterwards)')
    parser.add_argument('--size', type=int, default=512,
                        help='image side of the generated set')
    parser.add_argument('--num-workers', type=int,
                        help='override num_workers')
    parser.add_argument('--batch-size', type=int,
                        help='override batch_size')
    parser.add_argument('--max-iters', type=int, default=50,
                        help='batches to time')
    parser.add_argument('--warmup', type=int, default=5,
                        help='batches before timing starts')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy format')
    return parser.parse_args(argv)


def benchmark(loader, max_iters: int, warmup: int) -> dict:
    """Time ``max_iters`` batches after ``warmup`` batches.

    Epochs are restarted as needed, so a small dataset can be timed too.

    Returns:
        dict: ``input_shape`` (C, H, W) of a sample, ``samples``,
        ``batches``, ``seconds``, ``samples_per_s``, ``ms_per_batch``.
    """
    def batches():
        while True:
            yield from loader

    it = batches()
    for _ in range(warmup):
        next(it)
    samples = 0
    start = time.perf_counter()
    for _ in range(max_iters):
        batch = next(it)
        samples += len(batch['inputs'])
    seconds = time.perf_counter() - start
    return dict(
        input_shape=tuple(batch['inputs'][0].shape),
        samples=samples,
        batches=max_iters,
        seconds=round(seconds, 3),
        samples_per_s=round(samples / seconds, 2),
        ms_per_batch=round(1000 * seconds / max_iters, 2))


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    loader_cfg = cfg[f'{args.split}_dataloader']
    tmp = None
    data_root = args.data_root
    if args.generate:
        from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
        if data_root is None:
            data_root = tmp = tempfile.mkdtemp(prefix='mmrrsis_bench_')
        print(f'generating {args.generate} images of {args.size}x'
              f'{args.size} in {data_root}')
        make_synthetic_refsegrs(
            data_root, args.generate, size=args.size, show_progress=False)
    if data_root is not None:
        loader_cfg['dataset']['data_root'] = data_root
    if args.num_workers is not None:
        loader_cfg['num_workers'] = args.num_workers
        if args.num_workers == 0:
            loader_cfg['persistent_workers'] = False
    if args.batch_size is not None:
        loader_cfg['batch_size'] = args.batch_size
    try:
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        result = benchmark(loader, args.max_iters, args.warmup)
        result.update(
            num_workers=loader_cfg.get('num_workers', 0),
            batch_size=loader_cfg.get('batch_size'),
            dataset_size=len(loader.dataset))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(', '.join(f'{k}={v}' for k, v in result.items()))
    return result


if __name__ == '__main__':
    main()
