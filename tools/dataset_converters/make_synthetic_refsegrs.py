"""Generate a RefSegRS-style dataset in RefSegRS' on-disk layout.

Example::

    python tools/dataset_converters/make_synthetic_refsegrs.py \
        data/RefSegRS --num-images 300 --size 512 --seed 0
    # RISBench's layout (img_rgb/, mask/, "<file> <sentence>" lines):
    python tools/dataset_converters/make_synthetic_refsegrs.py \
        data/RISBench --layout risbench
"""
import argparse
import json

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate aerial scenes with RefSegRS-style referring '
        'expressions, in the RefSegRS layout (images/<id>.tif, '
        'masks/<id>.tif, output_phrase_{train,val,test}.txt).')
    parser.add_argument('root', help='output folder')
    parser.add_argument(
        '--num-images', type=int, default=100,
        help='distinct images (each gets several expressions)')
    parser.add_argument('--size', type=int, default=512, help='image side')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--split-ratios', type=float, nargs=3, default=(.7, .15, .15),
        metavar=('TRAIN', 'VAL', 'TEST'), help='proportions of the images')
    parser.add_argument(
        '--expressions', type=int, nargs=2, default=(2, 5),
        metavar=('MIN', 'MAX'), help='expressions per image')
    parser.add_argument(
        '--mask-value', type=int, default=255,
        help='stored value of target pixels (255 as RefSegRS, or 1: then '
        'read it with the dataset option mask_threshold=0, since '
        "RefSegRS' rule is > 50)")
    parser.add_argument(
        '--no-category-masks', action='store_true',
        help='do not write category_masks/')
    parser.add_argument(
        '--layout', default='refsegrs', choices=['refsegrs', 'risbench'],
        help="risbench: RISBench's layout (img_rgb/<file>.png, "
        'mask/<file>.png, "<file> <sentence>" lines)')
    parser.add_argument(
        '--quiet', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    summary = make_synthetic_refsegrs(
        args.root,
        num_images=args.num_images,
        size=args.size,
        seed=args.seed,
        split_ratios=args.split_ratios,
        min_expressions=args.expressions[0],
        max_expressions=args.expressions[1],
        mask_value=args.mask_value,
        category_masks=not args.no_category_masks,
        show_progress=not args.quiet,
        layout=args.layout)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
