"""Referring segmentation of a georeferenced scene, end to end.

Without a scene, generates one (UTM 32N GeoTIFF of synthetic tiles, with
ground truth), then writes per expression a mask GeoTIFF, the polygons
as GeoJSON (and GeoPackage), and an overview PNG (scene thumbnail,
coloured masks, legend; next to it the ground truth when known)::

    python demo/scene_demo.py --checkpoint \
        work_dirs/lgce_synthetic/best_oIoU_epoch_10.pth
    python demo/scene_demo.py scene.tif --texts "long truck" tree \
        --bands 3 2 1 --scale percentile --checkpoint ckpt.pth

The default config is the out-of-the-box model (``configs/lgce_synthetic.py``,
trained on 128 px tiles of the generator); without ``--checkpoint`` the
weights are random (and the overview says so).
"""
import argparse
import json
import os.path as osp
import sys

import numpy as np
from PIL import Image

from mmrrsis.apis import CheckpointMismatchError, SceneInferencer
from mmrrsis.apis.scene import SceneSource, draw_overview, evaluate_scene_masks
from mmrrsis.apis.scene.overview import read_decimated_mask
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.datasets.band_scaling import BandScaling
from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene
from mmrrsis.utils import (
    add_scaling_args,
    add_unsafe_load_arg,
    scaling_from_args,
)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEXTS = ('vehicle', 'building along the road', 'tree')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Scene inference demo')
    parser.add_argument('scene', nargs='?', help='scene file. Default: a '
                        'generated scene')
    parser.add_argument('--texts', nargs='+', default=list(TEXTS),
                        help=f'expressions. Default: {" / ".join(TEXTS)}')
    parser.add_argument('--config', default=osp.join(
        ROOT, 'configs/lgce_synthetic.py'), help='Default: '
        'configs/lgce_synthetic.py')
    parser.add_argument('--checkpoint', help='Default: none (random weights)')
    parser.add_argument('--out-dir', default='work_dirs/scene_demo')
    parser.add_argument('--tiles', type=int, nargs=2, default=(6, 6),
                        help='generated scene: rows and columns of 128 px '
                        'tiles. Default: 6 6')
    parser.add_argument('--gsd', type=float)
    parser.add_argument('--device')
    add_unsafe_load_arg(parser)
    add_scaling_args(parser, 'computed once on a decimated read of the '
                     'scene')
    return parser.parse_args(argv)


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two pictures next to each other on white (tops aligned)."""
    height = max(left.shape[0], right.shape[0])
    canvas = np.full((height, left.shape[1] + 16 + right.shape[1], 3), 255,
                     np.uint8)
    canvas[:left.shape[0], :left.shape[1]] = left
    canvas[:right.shape[0], left.shape[1] + 16:] = right
    return canvas


def main(argv=None) -> dict:
    args = parse_args(argv)
    gt = None
    scene = args.scene
    if scene is None:
        info = make_synthetic_geo_scene(
            osp.join(args.out_dir, 'scene'), tiles=tuple(args.tiles),
            tile_size=128, texts=tuple(args.texts))
        scene, gt = info['rgb8'], [e['gt'] for e in info['expressions']]
    try:
        inferencer = SceneInferencer(args.config, args.checkpoint,
                                     device=args.device,
                                     unsafe_load=args.unsafe_load)
        result = inferencer(scene, args.texts, args.out_dir, gsd=args.gsd,
                            scaling=scaling_from_args(args))
    except (FileNotFoundError, ValueError, CheckpointMismatchError,
            UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    report = dict(masks=result.masks, geojson=result.geojson,
                  gpkg=result.gpkg, overview=result.overview)
    if gt is not None:
        scores = evaluate_scene_masks(result.masks, gt)
        report['oIoU'] = round(100 * scores['oIoU'], 2)
        report['mIoU'] = round(100 * scores['mIoU'], 2)
        with SceneSource(scene, BandScaling()) as source:
            thumb, valid = source.thumbnail()
        truth = [read_decimated_mask(p, valid.shape) for p in gt]
        areas = [float(m.sum()) for m in truth]
        scale = (result.summary['size'][0] / valid.shape[0])**2
        pixel = abs(result.summary['transform'][0] *
                    result.summary['transform'][4])
        gt_picture = draw_overview(
            thumb, valid, truth, args.texts,
            [a * scale * pixel for a in areas],
            result.summary['area_unit'], 'ground truth')
        pred = np.asarray(Image.open(result.overview).convert('RGB'))
        Image.fromarray(side_by_side(pred, gt_picture)).save(
            result.overview)
    print(json.dumps(report, indent=1))
    return report


if __name__ == '__main__':
    main()
