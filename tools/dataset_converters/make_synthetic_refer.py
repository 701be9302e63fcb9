"""Generate a dataset in the refer layout (RRSIS-D, RefCOCO, gRefCOCO).

Example::

    python tools/dataset_converters/make_synthetic_refer.py data/rrsisd \
        --num-images 300 --size 512
    # -> data/rrsisd/rrsisd/refs(unc).p, data/rrsisd/rrsisd/instances.json,
    #    data/rrsisd/images/rrsisd/JPEGImages/*.jpg
    python tools/dataset_converters/make_synthetic_refer.py data/refcoco \
        --dataset refcoco
    # -> RefCOCO's layout (images/mscoco/images/train2014/COCO_train2014_
    #    *.jpg) and splits (train, val, testA, testB)
    python tools/dataset_converters/make_synthetic_refer.py data/grefcoco \
        --dataset grefcoco
    # -> a generalized set in gRefCOCO's schema (no-target and multi-target
    #    refs): grefcoco/grefs(unc).json, grefcoco/instances.json,
    #    images/train2014/*.jpg
"""
import argparse
import json

from mmrrsis.datasets.synthetic import (
    make_synthetic_grefer,
    make_synthetic_refer,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate aerial scenes with referring expressions in '
        'the refer layout: <root>/<dataset>/refs(<split_by>).p, '
        '<root>/<dataset>/instances.json (polygon and RLE annotations), '
        'JPEG images under <root>/images/<dataset>/JPEGImages.')
    parser.add_argument('root', help='output folder (refer "data" folder)')
    parser.add_argument('--num-images', type=int, default=100)
    parser.add_argument('--size', type=int, default=512, help='image side')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--dataset', default='rrsisd',
        help='dataset folder name; refcoco, refcoco+ and refcocog get their '
        "published layout and splits, grefcoco a generalized set in "
        "gRefCOCO's schema")
    parser.add_argument('--split-by', default='unc',
                        help='name in refs(<split_by>).p')
    parser.add_argument(
        '--split-ratios', type=float, nargs=3, default=(.7, .15, .15),
        metavar=('TRAIN', 'VAL', 'TEST'), help='proportions of the images')
    parser.add_argument(
        '--expressions', type=int, nargs=2, default=(2, 4),
        metavar=('MIN', 'MAX'), help='refs per image')
    parser.add_argument('--max-sentences', type=int, default=3,
                        help='most sentences per ref')
    parser.add_argument(
        '--encoding', default='auto',
        choices=['auto', 'rle', 'polygons', 'mixed'],
        help='segmentation encoding: auto = as the published files '
        '(rrsisd: a list of one compressed RLE; others: polygons); mixed = '
        'every form the loader reads (for tests)')
    parser.add_argument('--rle-ratio', type=float, default=.4,
                        help='share of RLE annotations with --encoding '
                        'mixed')
    parser.add_argument('--no-target-ratio', type=float, default=.25,
                        help='--dataset grefcoco: expected share of '
                        'no-target refs')
    parser.add_argument('--quiet', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    common = dict(
        num_images=args.num_images,
        size=args.size,
        seed=args.seed,
        split_ratios=args.split_ratios,
        min_expressions=args.expressions[0],
        max_expressions=args.expressions[1],
        show_progress=not args.quiet)
    if args.dataset == 'grefcoco':
        summary = make_synthetic_grefer(
            args.root,
            no_target_ratio=args.no_target_ratio,
            max_sentences=min(args.max_sentences, 4),
            **common)
    else:
        summary = make_synthetic_refer(
            args.root,
            dataset=args.dataset,
            split_by=args.split_by,
            max_sentences=args.max_sentences,
            encoding=args.encoding,
            rle_ratio=args.rle_ratio,
            **common)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == '__main__':
    main()
