"""Save samples of a config's dataset with mask and expression drawn.

What is drawn is what the model receives: the packed image after the
pipeline (480x480 for the base configs), the target in red with its
outline, and the expression (with id and category) in a band above.

Example::

    python tools/analysis_tools/browse_dataset.py \
        configs/_base_/datasets/refsegrs.py --output-dir work_dirs/browse \
        --split val --max-samples 20
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmrrsis.registry import DATASETS

FONT = cv2.FONT_HERSHEY_SIMPLEX


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw dataset samples (mask + expression) to images')
    parser.add_argument('config', help='config file')
    parser.add_argument('--output-dir', required=True,
                        help='folder for the drawn samples')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'],
                        help='whose dataloader\'s dataset to draw')
    parser.add_argument('--max-samples', type=int, default=20,
                        help='draw at most this many samples')
    parser.add_argument('--data-root',
                        help='override data_root of every dataloader')
    parser.add_argument('--alpha', type=float, default=.5,
                        help='opacity of the mask overlay')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy format')
    return parser.parse_args(argv)


def load_dataset_cfg(config: str, split: str, data_root=None,
                     cfg_options=None):
    """The dataset config of ``<split>_dataloader``, with overrides."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise KeyError(f'{config} has no {key}')
    ds_cfg = cfg[key]['dataset']
    if data_root is not None:
        ds_cfg['data_root'] = data_root
    return cfg, ds_cfg


def wrap_text(text: str, width: int, scale: float, thickness: int):
    """Split ``text`` into lines that fit ``width`` pixels."""
    lines, line = [], ''
    for word in text.split():
        cand = f'{line} {word}'.strip()
        if line and cv2.getTextSize(cand, FONT, scale,
                                    thickness)[0][0] > width:
            lines.append(line)
            line = word
        else:
            line = cand
    return lines + [line] if line else lines


def draw_sample(img: np.ndarray, mask, text: str, header: str,
                alpha: float = .5) -> np.ndarray:
    """Overlay the mask and write header and expression above the image.

    Args:
        img (np.ndarray): (H, W, 3) uint8 BGR image.
        mask (np.ndarray | None): (H, W) target mask in {0, 1}.
        text (str): The expression.
        header (str): A first line (id, category).
        alpha (float): Mask opacity. Defaults to 0.5.

    Returns:
        np.ndarray: (H + band, W, 3) uint8 BGR drawing.
    """
    canvas = np.ascontiguousarray(img.copy())
    h, w = canvas.shape[:2]
    if mask is not None and mask.any():
        on = mask > 0
        red = np.array([0, 0, 255], np.float32)
        canvas[on] = (canvas[on] * (1 - alpha) + red * alpha).astype(
            np.uint8)
        contours, _ = cv2.findContours(on.astype(np.uint8), cv2.RETR_LIST,
                                       cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, (0, 255, 255),
                         max(1, w // 320))
    scale = max(.4, w / 800)
    thick = max(1, int(round(scale * 1.5)))
    line_h = cv2.getTextSize('Ag', FONT, scale, thick)[0][1] * 2
    lines = [header] + wrap_text(text, w - 10, scale, thick)
    band = np.zeros((line_h * len(lines) + line_h // 2, w, 3), np.uint8)
    for i, line in enumerate(lines):
        colour = (180, 180, 180) if i == 0 else (255, 255, 255)
        cv2.putText(band, line, (5, line_h * (i + 1)), FONT, scale, colour,
                    thick, cv2.LINE_AA)
    return np.concatenate([band, canvas], axis=0)


def main(argv=None):
    args = parse_args(argv)
    _, ds_cfg = load_dataset_cfg(args.config, args.split, args.data_root,
                                 args.cfg_options)
    dataset = DATASETS.build(ds_cfg)
    os.makedirs(args.output_dir, exist_ok=True)
    count = min(len(dataset), args.max_samples)
    written = []
    for idx in range(count):
        item = dataset[idx]
        sample = item['data_samples']
        img = item['inputs'].permute(1, 2, 0).numpy()
        mask = (sample.gt_sem_seg.data[0].numpy()
                if 'gt_sem_seg' in sample else None)
        if mask is not None and mask.shape != img.shape[:2]:
            mask = cv2.resize(mask.astype(np.uint8), img.shape[1::-1],
                              interpolation=cv2.INTER_NEAREST)
        ref_id = sample.metainfo.get('ref_id')
        header = (f'#{idx} ref_id={ref_id} '
                  f'sent_id={sample.metainfo.get("sent_id")} '
                  f'category={sample.metainfo.get("category")}')
        drawing = draw_sample(img, mask, sample.metainfo.get('text', ''),
                              header, args.alpha)
        name = f'{idx:05d}_{ref_id}.jpg'.replace(os.sep, '_')
        path = osp.join(args.output_dir, name)
        if not cv2.imwrite(path, drawing):
            raise OSError(f'Could not write {path}')
        written.append(path)
    print(f'{len(written)} samples of {len(dataset)} written to '
          f'{args.output_dir}')
    return written


if __name__ == '__main__':
    main()
