"""Generate a georeferenced scene from the synthetic tiles, with ground
truth: ``<name>_rgb8.tif`` (uint8 RGB), ``<name>_bgrn16.tif`` (uint16
blue, green, red, NIR), ``<name>_gt/gt_<k>.tif`` and ``<name>.json``::

    python tools/dataset_converters/make_synthetic_scene.py data/scene \
        --tiles 16 16 --tile-size 128 --seed 1
"""
import argparse
import json

from mmrrsis.datasets.synthetic.geo_scene import (
    DEFAULT_EXPRESSIONS,
    make_synthetic_geo_scene,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Stitch generated aerial tiles into a georeferenced '
        'scene (UTM 32N GeoTIFFs, 8-bit RGB and 16-bit 4-band) with '
        'ground-truth masks of its expressions')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--tiles', type=int, nargs=2, default=(8, 8),
                        metavar=('ROWS', 'COLS'), help='Default: 8 8')
    parser.add_argument('--tile-size', type=int, default=128,
                        help='tile side in pixels. Default: 128')
    parser.add_argument('--seed', type=int, default=1, help='Default: 1 '
                        '(the out-of-the-box training set uses seed 0)')
    parser.add_argument('--texts', nargs='+', default=DEFAULT_EXPRESSIONS,
                        help='expressions with ground truth')
    parser.add_argument('--gsd', type=float,
                        help='metres per pixel. Default: 0.13 * 512 / '
                        'tile size')
    parser.add_argument('--border', type=int,
                        help='nodata margin (px). Default: tile size / 4')
    parser.add_argument('--stretch', type=float,
                        help='make the 8-bit variant a stretch saturating '
                        'this percentage at both ends')
    parser.add_argument('--name', default='scene', help='file name stem')
    parser.add_argument('--quiet', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    info = make_synthetic_geo_scene(
        args.out_dir, tiles=tuple(args.tiles), tile_size=args.tile_size,
        seed=args.seed, texts=tuple(args.texts), gsd=args.gsd,
        border=args.border, stretch=args.stretch, name=args.name,
        show_progress=not args.quiet)
    print(json.dumps(info, indent=1))
    return info


if __name__ == '__main__':
    main()
