"""Windows per second and peak memory of scene inference, by scene size.

Each size runs in its own process (a fresh interpreter: its peak RSS is its
own), on a generated scene of that size; the difference of the peak RSS
between sizes is what bounded memory is about::

    python tools/analysis_tools/benchmark_scene.py \
        configs/tiny/lgce_swin-tiny_refsegrs-64x64.py --sizes 2000 8000 \
        --out bench_scene.json
"""
import argparse
import json
import os
import os.path as osp
import resource
import subprocess
import sys
import time

from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark SceneInferencer')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='Default: random '
                        'weights')
    parser.add_argument('--sizes', type=int, nargs='+', default=[2000, 8000],
                        help='scene sides in pixels. Default: 2000 8000')
    parser.add_argument('--texts', nargs='+',
                        default=['car', 'building along the road'])
    parser.add_argument('--crop-size', type=int, help='Default: the '
                        'training size')
    parser.add_argument('--stride', type=int)
    parser.add_argument('--tile-size', type=int, default=125,
                        help='generated tiles (a divisor of the sizes). '
                        'Default: 125')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_scene')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads. Default: 1')
    parser.add_argument('--vectors', action='store_true',
                        help='also polygonise (its memory grows with the '
                        'polygons found, i.e. with the output)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--child', type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


def run_one(args) -> dict:
    """Run one size in this process and measure it."""
    import torch

    from mmrrsis.apis import SceneInferencer
    torch.set_num_threads(args.threads)
    scene = osp.join(args.work_dir, f'scene_{args.child}', 'scene_rgb8.tif')
    inferencer = SceneInferencer(
        args.config, args.checkpoint, device='cpu',
        crop_size=args.crop_size, stride=args.stride)
    model_rss = peak_rss_mib()
    start = time.perf_counter()
    result = inferencer(scene, args.texts,
                        osp.join(args.work_dir, f'out_{args.child}'),
                        resume=False, show_progress=False, overview=False,
                        vectors=args.vectors,
                        max_pixels=None)  # the sizes asked for, any size
    seconds = time.perf_counter() - start
    windows = result.summary['windows_run']
    return dict(
        size=args.child,
        vectors=args.vectors,
        windows=windows,
        expressions=len(args.texts),
        crop_size=list(inferencer.crop_size),
        stride=list(inferencer.stride),
        seconds=round(seconds, 1),
        windows_per_s=round(windows / seconds, 2),
        peak_rss_mib=round(peak_rss_mib(), 1),
        rss_after_model_mib=round(model_rss, 1))


def main(argv=None) -> list:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_one(args)))
        return []
    results = []
    for size in args.sizes:
        if size % args.tile_size:
            sys.exit(f'error: --tile-size {args.tile_size} does not divide '
                     f'the size {size}')
        folder = osp.join(args.work_dir, f'scene_{size}')
        if not osp.isfile(osp.join(folder, 'scene_rgb8.tif')):
            n = size // args.tile_size
            make_synthetic_geo_scene(folder, tiles=(n, n),
                                     tile_size=args.tile_size, texts=())
        cmd = [sys.executable, __file__, args.config] + (
            [args.checkpoint] if args.checkpoint else []) + [
                '--child', str(size), '--work-dir', args.work_dir,
                '--threads', str(args.threads), '--texts', *args.texts]
        if args.crop_size:
            cmd += ['--crop-size', str(args.crop_size)]
        if args.stride:
            cmd += ['--stride', str(args.stride)]
        if args.vectors:
            cmd.append('--vectors')
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             env=dict(os.environ))
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result))
    if len(results) > 1:
        print(f"peak RSS difference {results[-1]['size']} vs "
              f"{results[0]['size']}: "
              f"{results[-1]['peak_rss_mib'] - results[0]['peak_rss_mib']:.1f}"
              ' MiB')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == '__main__':
    main()
