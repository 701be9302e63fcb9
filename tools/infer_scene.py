"""Referring segmentation of whole (geo)referenced scenes.

Writes, per expression, a mask and a score GeoTIFF on the scene's grid, one
vector layer of polygons (GeoJSON, and GeoPackage with pyogrio), an
overview PNG and a summary JSON::

    python tools/infer_scene.py scene.tif "long truck" \
        "building along the road" configs/lgce_synthetic.py ckpt.pth \
        --out-dir out/ [--bands 3 2 1 --scale percentile] [--gsd 0.52] \
        [--precision bf16]

The first argument is a scene; the arguments after it that name existing
files are more scenes, the rest are the expressions, then the config and
the checkpoint (or give those two with ``--model CONFIG CKPT``). Several
processes (``tools/dist_infer_scene.sh``, ``--launcher pytorch|slurm``)
split the rows of one scene, or the list of scenes, among themselves and
write the same files as one process.

An interrupted run continues where it stopped when started again with the
same arguments (``--restart`` starts over). The checkpoint is read without
running code from it; ``--unsafe-load`` unpickles it completely (trusted
files only).

The scene is opened by :func:`mmrrsis.datasets.raster_io.open_raster`:
GeoTIFF / COG, PNG, JPEG or JPEG 2000, told by content; a VRT mosaic only
with ``--allow-vrt``. A run above the size rule (windows x window pixels x
expressions > ``--max-pixels``) stops before any pixel is read, saying by
how much.
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import DictAction

from mmrrsis.apis import CheckpointMismatchError, SceneInferencer
from mmrrsis.apis.scene import evaluate_scene_masks
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.datasets.raster_io import MAX_SCENE_PIXELS, limit_from_option
from mmrrsis.utils import (
    PRECISIONS,
    add_scaling_args,
    add_unsafe_load_arg,
    scaling_from_args,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Masks and polygons of referring expressions on whole '
        'scenes (GeoTIFF of any size, dtype and band count; or PNG / JPEG)')
    parser.add_argument(
        'inputs', nargs='+', metavar='SCENE [SCENE ...] TEXT [TEXT ...] '
        '[CONFIG CHECKPOINT]', help='scene file(s), expression(s), then the '
        "config and the checkpoint ('none': random weights) unless --model "
        'gives them')
    parser.add_argument('--model', nargs=2, metavar=('CONFIG', 'CHECKPOINT'),
                        help='the config and checkpoint (instead of the last '
                        'two positional arguments)')
    parser.add_argument('--out-dir', default='scene_out', help='output '
                        'folder. Default: scene_out')
    add_scaling_args(parser, 'computed once on a decimated read of the '
                     'scene')
    parser.add_argument('--gsd', nargs='?', const='config',
                        help='run the model at this ground resolution (CRS '
                        'units per pixel); without a value: the config\'s '
                        'train_gsd')
    parser.add_argument('--crop-size', type=int, nargs='+',
                        help='window (h [w]). Default: the training size')
    parser.add_argument('--stride', type=int, nargs='+',
                        help='window step. Default: 2/3 of the window')
    parser.add_argument('--blend', default='hann',
                        choices=['hann', 'triangular', 'uniform'],
                        help='weights of overlapping windows. Default: hann')
    parser.add_argument('--batch-size', type=int,
                        help='most expressions per forward pass')
    parser.add_argument('--precision', default='fp32', choices=PRECISIONS,
                        help='bf16: CPUs with AVX512-BF16/AMX and GPUs; '
                        'fp16: GPUs. Default: fp32')
    parser.add_argument('--min-area', type=float, default=0.,
                        help='drop polygons smaller than this (CRS units^2)')
    parser.add_argument('--simplify', type=float, default=0.,
                        help='polygon simplification tolerance (CRS units)')
    parser.add_argument('--no-vectors', action='store_true',
                        help='no polygon layer')
    parser.add_argument('--no-gpkg', action='store_true',
                        help='GeoJSON only')
    parser.add_argument('--no-overview', action='store_true',
                        help='no overview PNG')
    parser.add_argument('--gt', nargs='+', help='ground-truth masks (one '
                        'per expression; one scene): print oIoU / mIoU')
    parser.add_argument('--restart', action='store_true',
                        help='do not resume an interrupted run')
    parser.add_argument('--allow-vrt', action='store_true',
                        help='open a VRT mosaic (e.g. from gdalbuildvrt) of '
                        'local GeoTIFF / PNG / JPEG files; it is checked '
                        'first (no raw bands, pixel functions, URLs or '
                        '/vsi paths)')
    parser.add_argument('--max-pixels', type=int, default=MAX_SCENE_PIXELS,
                        help='the size rule: most pixels to compute '
                        '(windows x window pixels x expressions); 0: no '
                        f'limit. Default: {MAX_SCENE_PIXELS:,}')
    parser.add_argument('--device', help="'cpu' or 'cuda[:i]'")
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm'],
                        help='several processes (tools/dist_infer_scene.sh)')
    parser.add_argument('--dist-timeout', type=float, default=86400.,
                        help='seconds a process waits for the others to '
                        'finish their rows. Default: 86400')
    add_unsafe_load_arg(parser)
    parser.add_argument('--quiet', action='store_true', help='no progress '
                        'bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    inputs = list(args.inputs)
    if args.model is None:
        if len(inputs) < 4:
            parser.error('give SCENE TEXT... CONFIG CHECKPOINT (or --model '
                         'CONFIG CHECKPOINT)')
        args.model, inputs = inputs[-2:], inputs[:-2]
    args.config, args.checkpoint = args.model
    count = 1
    while count < len(inputs) and osp.isfile(inputs[count]):
        count += 1
    args.scenes, args.texts = inputs[:count], inputs[count:]
    if not args.texts:
        parser.error('no expression given after the scene(s)')
    if args.gt and len(args.scenes) > 1:
        parser.error('--gt takes the ground truth of one scene')
    return args


def _one_or_list(values):
    if values is None:
        return None
    return values[0] if len(values) == 1 else values


def _dist(args):
    """(rank, world size) of this process; the group started if several.
    """
    if args.launcher == 'none':
        return 0, 1
    from mmrrsis.engine import init_cpu_dist
    init_cpu_dist(args.launcher, backend='gloo', timeout=args.dist_timeout)
    import torch.distributed as dist
    return dist.get_rank(), dist.get_world_size()


def _device(args) -> str:
    import torch
    if args.device or args.launcher == 'none' or \
            not torch.cuda.is_available():
        return args.device
    return f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'


def main(argv=None) -> dict:
    args = parse_args(argv)
    gsd = args.gsd
    if gsd not in (None, 'config'):
        gsd = float(gsd)
    rank, world = _dist(args)
    results = []
    try:
        inferencer = SceneInferencer(
            args.config,
            None if args.checkpoint == 'none' else args.checkpoint,
            device=_device(args),
            crop_size=_one_or_list(args.crop_size),
            stride=_one_or_list(args.stride),
            blend=args.blend,
            batch_size=args.batch_size,
            cfg_options=args.cfg_options,
            unsafe_load=args.unsafe_load,
            precision=args.precision)
        one_scene = len(args.scenes) == 1
        # one scene: its rows are split among the processes; several: the
        # scenes are
        mine = args.scenes if one_scene else args.scenes[rank::world]
        for scene in mine:
            result = inferencer(
                scene, args.texts, args.out_dir,
                scaling=scaling_from_args(args), gsd=gsd,
                vectors=not args.no_vectors, gpkg=not args.no_gpkg,
                min_area=args.min_area, simplify=args.simplify,
                overview=not args.no_overview, resume=not args.restart,
                show_progress=not args.quiet and rank == 0,
                allow_vrt=args.allow_vrt,
                max_pixels=limit_from_option(args.max_pixels),
                ranks=(rank, world) if one_scene else None)
            if result is not None:
                results.append(result)
        scores = (evaluate_scene_masks(results[0].masks, args.gt)
                  if args.gt and results else None)
    except (FileNotFoundError, IsADirectoryError, ValueError, TypeError,
            CheckpointMismatchError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')  # the launcher stops the other processes
    from mmrrsis.engine import destroy_dist
    destroy_dist()
    for result in results:
        for item in result.summary['expressions']:
            print(f"{item['text']!r}: {item['target_pixels']} px, "
                  f"{item['area']:.1f} {result.summary['area_unit']}, "
                  f"{item.get('polygons', 0)} polygons -> {item['mask']}")
        for name in ('geojson', 'gpkg', 'overview'):
            if getattr(result, name):
                print(f'{name}: {getattr(result, name)}')
    if scores is not None:
        print(json.dumps({k: v for k, v in scores.items()
                          if k != 'per_expression'}))
    summary = results[0].summary if len(results) == 1 else None
    return dict(summary=summary, summaries=[r.summary for r in results],
                scores=scores)


if __name__ == '__main__':
    main()
