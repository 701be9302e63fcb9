"""Segment what an expression refers to in an aerial image.

Writes the image with the predicted mask overlaid and the expression
printed below it::

    python demo/image_demo.py tile.tif "the long truck on the road" \
        configs/lgce_swin-b.py work_dirs/lgce/best_oIoU.pth \
        --out-file out.png

Tiles larger than the training size can be predicted window by window
with ``--slide-crop 480 --slide-stride 320``. An image that is not 8-bit
RGB (uint16, 4 bands, ...) needs its conversion, e.g. ``--bands 3 2 1
--scale percentile`` (or ``--scale minmax --min 0 --max 4095``); without
flags the config's ``LoadRSImageFromFile`` settings apply. The checkpoint
is read without running code from it; ``--unsafe-load`` unpickles it
completely (trusted files only).
"""
import argparse
import sys

import mmcv

from mmrrsis.apis import (
    CheckpointMismatchError,
    InferencePipeline,
    inference_model,
    init_model,
    load_config,
    pair_inputs,
    set_slide_inference,
)
from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
from mmrrsis.utils import (
    add_scaling_args,
    add_unsafe_load_arg,
    scaling_from_args,
)
from mmrrsis.visualization import RRSISLocalVisualizer


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Referring segmentation of one image')
    parser.add_argument('img', help='image file')
    parser.add_argument('text', help='the referring expression')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out-file', default='out.png', help='drawing to write. Default: '
        'out.png')
    parser.add_argument(
        '--mask-file', help='also write the mask as a PNG (0/255)')
    parser.add_argument(
        '--device', default=None, help="'cpu' or 'cuda[:i]'. Default: cuda "
        'when available')
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='mask tint opacity. '
        'Default: 0.5')
    parser.add_argument(
        '--slide-crop', type=int, help='sliding-window size (enables '
        'sliding-window inference at the image resolution)')
    parser.add_argument(
        '--slide-stride', type=int, help='sliding-window step. Default: 2/3 '
        'of the window')
    parser.add_argument(
        '--show', action='store_true', help='also show it in a window')
    add_unsafe_load_arg(parser)
    add_scaling_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        pair_inputs(args.img, args.text)  # fail fast on bad input
        scaling = scaling_from_args(args)
        image = InferencePipeline(load_config(args.config),
                                  scaling=scaling).image(args.img)  # BGR
        model = init_model(
            args.config,
            args.checkpoint,
            device=args.device,
            unsafe_load=args.unsafe_load)
        if args.slide_crop:
            stride = args.slide_stride or max(1, args.slide_crop * 2 // 3)
            set_slide_inference(model, args.slide_crop, stride)
        result = inference_model(model, args.img, args.text, scaling=scaling)
    except (OSError, ValueError, TypeError, CheckpointMismatchError,
            UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    visualizer = RRSISLocalVisualizer(
        name='image_demo', alpha=args.opacity)
    visualizer.add_datasample(
        'demo',
        mmcv.bgr2rgb(image),
        result,
        draw_gt=False,
        show=args.show,
        out_file=args.out_file,
        text=args.text)
    mask = result.pred_sem_seg.data[0].cpu().numpy() == 1
    if args.mask_file:
        mmcv.imwrite(mask.astype('uint8') * 255, args.mask_file)
    print(f'"{args.text}": {int(mask.sum())} of {mask.size} pixels '
          f'({100 * mask.mean():.1f}%); drawing written to {args.out_file}')


if __name__ == '__main__':
    main()
