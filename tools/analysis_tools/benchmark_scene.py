"""Windows per second, peak memory and precision of scene inference.

Each scene size runs in its own process (a fresh interpreter: its peak RSS
is its own), on a generated scene of that size (or on ``--scene``); the
difference of the peak RSS between sizes is what bounded memory is
about::

    python tools/analysis_tools/benchmark_scene.py \
        configs/tiny/lgce_swin-tiny_refsegrs-64x64.py --sizes 2000 8000 \
        --out bench_scene.json

With several ``--precisions`` the process runs the scene once per
precision, in turn, ``--repeats`` times (one model; a shared machine
slows them alike), and reports each precision's median windows/s, its
ratio to the first precision's, and the share of the scene's valid pixels
whose mask equals the first precision's::

    python tools/analysis_tools/benchmark_scene.py configs/lgce_swin-b.py \
        --offline --sizes 1120 --tile-size 140 --texts car \
        --precisions fp32 bf16 --repeats 2

``--offline`` builds a config's text encoder and backbone at full size
with random weights and nothing downloaded
(:func:`mmrrsis.apis.make_offline`).
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import statistics
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
    parser.add_argument('--scene', help='an existing scene instead of '
                        'generated ones (--sizes is ignored)')
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
    parser.add_argument('--precisions', nargs='+', default=['fp32'],
                        choices=['fp32', 'bf16', 'fp16'],
                        help='run in turn, the first is the reference. '
                        'Default: fp32')
    parser.add_argument('--repeats', type=int, default=1,
                        help='rounds over the precisions. Default: 1')
    parser.add_argument('--offline', action='store_true',
                        help='full-size text encoder / backbone with random '
                        'weights, nothing downloaded')
    parser.add_argument('--vectors', action='store_true',
                        help='also polygonise (its memory grows with the '
                        'polygons found, i.e. with the output)')
    parser.add_argument('--out', help='write the results as JSON')
    parser.add_argument('--child', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


def cpu_name() -> str:
    """The CPU's model name and its bfloat16 / AMX support."""
    name = platform.processor() or 'unknown CPU'
    flags = ''
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name') and name in ('', 'x86_64',
                                                              'unknown CPU'):
                    name = line.split(':', 1)[1].strip()
                if line.startswith('flags'):
                    flags = line
                    break
    except OSError:
        pass
    extras = [f for f in ('avx512_bf16', 'amx_bf16') if f in flags.split()]
    return f'{name} ({", ".join(extras) or "no native bf16"})'


def mask_agreement(masks, reference) -> float:
    """Share of valid pixels (not 255) whose mask values agree."""
    import rasterio
    equal = total = 0
    for a, b in zip(masks, reference):
        with rasterio.open(a) as src, rasterio.open(b) as ref:
            x, y = src.read(1), ref.read(1)
        valid = y != 255
        equal += int((x[valid] == y[valid]).sum())
        total += int(valid.sum())
    return equal / max(total, 1)


def run_one(args) -> dict:
    """Run one scene in this process, every precision in turn."""
    import torch
    from mmengine.config import Config

    from mmrrsis.apis import SceneInferencer, make_offline
    from mmrrsis.utils import check_precision
    torch.set_num_threads(args.threads)
    scene = args.child
    config = args.config
    if args.offline:
        config = Config.fromfile(args.config)
        make_offline(config.model)
    inferencer = SceneInferencer(
        config, args.checkpoint, device='cpu', crop_size=args.crop_size,
        stride=args.stride, precision=args.precisions[0])
    model_rss = peak_rss_mib()
    rates = {p: [] for p in args.precisions}
    masks, windows = {}, 0
    stem = osp.splitext(osp.basename(scene))[0]
    for _ in range(args.repeats):
        for precision in args.precisions:
            inferencer.precision = check_precision(precision, 'cpu')
            out = osp.join(args.work_dir, f'out_{stem}_{precision}')
            start = time.perf_counter()
            result = inferencer(scene, args.texts, out, resume=False,
                                show_progress=False, overview=False,
                                vectors=args.vectors,
                                max_pixels=None)  # the sizes asked for
            seconds = time.perf_counter() - start
            windows = result.summary['windows_run']
            rates[precision].append(windows / seconds)
            masks[precision] = result.masks
    first = args.precisions[0]
    rows = []
    for precision in args.precisions:
        rate = statistics.median(rates[precision])
        rows.append(dict(
            precision=precision,
            windows_per_s=round(rate, 3),
            ratio=round(rate / statistics.median(rates[first]), 2),
            rounds=[round(r, 3) for r in rates[precision]],
            mask_agreement=round(mask_agreement(masks[precision],
                                                masks[first]), 5)))
    return dict(
        scene=scene,
        size=list(result.summary['size']),
        windows=windows,
        expressions=len(args.texts),
        crop_size=list(inferencer.crop_size),
        stride=list(inferencer.stride),
        threads=args.threads,
        cpu=cpu_name(),
        precisions=rows,
        windows_per_s=rows[0]['windows_per_s'],
        peak_rss_mib=round(peak_rss_mib(), 1),
        rss_after_model_mib=round(model_rss, 1))


def main(argv=None) -> list:
    args = parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_one(args)))
        return []
    scenes = []
    if args.scene:
        scenes.append(args.scene)
    for size in [] if args.scene else args.sizes:
        if size % args.tile_size:
            sys.exit(f'error: --tile-size {args.tile_size} does not divide '
                     f'the size {size}')
        folder = osp.join(args.work_dir, f'scene_{size}')
        if not osp.isfile(osp.join(folder, 'scene_rgb8.tif')):
            n = size // args.tile_size
            make_synthetic_geo_scene(folder, tiles=(n, n),
                                     tile_size=args.tile_size, texts=())
        scenes.append(osp.join(folder, 'scene_rgb8.tif'))
    results = []
    for scene in scenes:
        cmd = [sys.executable, __file__, args.config] + (
            [args.checkpoint] if args.checkpoint else []) + [
                '--child', scene, '--work-dir', args.work_dir,
                '--threads', str(args.threads), '--repeats',
                str(args.repeats), '--texts', *args.texts, '--precisions',
                *args.precisions]
        for flag in ('crop_size', 'stride'):
            if getattr(args, flag):
                cmd += ['--' + flag.replace('_', '-'),
                        str(getattr(args, flag))]
        cmd += [f'--{f}' for f in ('vectors', 'offline') if getattr(args, f)]
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
