"""Time image loading: mmcv's LoadImageFromFile vs LoadRSImageFromFile.

Writes a few random images of each kind (8-bit RGB TIFF, PNG, JPEG, and a
uint16 4-band GeoTIFF read with bands and a percentile stretch) to a
temporary folder and reports the median milliseconds per image of each
transform::

    python tools/analysis_tools/benchmark_loading.py --size 512 --repeat 50
"""
import argparse
import os.path as osp
import statistics
import tempfile
import time
import warnings

import cv2
import numpy as np
from mmcv.transforms import LoadImageFromFile

from mmrrsis.datasets.transforms import LoadRSImageFromFile


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Milliseconds per image of the loading transforms')
    parser.add_argument('--size', type=int, default=512,
                        help='image side. Default: 512')
    parser.add_argument('--images', type=int, default=4,
                        help='images of each kind. Default: 4')
    parser.add_argument('--repeat', type=int, default=30,
                        help='timed passes over the images. Default: 30')
    return parser.parse_args(argv)


def write_images(folder: str, size: int, num: int) -> dict:
    """``{kind: [paths]}`` of random images (smooth, so they compress)."""
    import rasterio
    rng = np.random.default_rng(0)
    files = dict(tif=[], png=[], jpg=[], uint16_4band=[])
    for i in range(num):
        small = rng.integers(0, 256, (size // 8, size // 8, 3), np.uint8)
        img = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
        for ext in ('tif', 'png', 'jpg'):
            path = osp.join(folder, f'{i}.{ext}')
            cv2.imwrite(path, img)
            files[ext].append(path)
        path = osp.join(folder, f'{i}_u16.tif')
        data = np.concatenate([img.transpose(2, 0, 1), img[None, ..., 0]])
        with warnings.catch_warnings():  # not georeferenced: fine here
            warnings.simplefilter('ignore')
            dst = rasterio.open(path, 'w', driver='GTiff', width=size,
                                height=size, count=4, dtype='uint16')
        with dst:
            dst.write(data.astype(np.uint16) * 16)
        files['uint16_4band'].append(path)
    return files


def time_transforms(transforms: dict, paths, repeat: int) -> dict:
    """Median ms per image of each transform over ``repeat`` passes.

    The transforms take turns on each image (after one warm-up pass), so
    other load on the machine affects them alike.
    """
    times = {name: [] for name in transforms}
    for _ in range(repeat + 1):
        for path in paths:
            for name, transform in transforms.items():
                start = time.perf_counter()
                transform(dict(img_path=path))
                times[name].append(time.perf_counter() - start)
    return {
        name: 1000 * statistics.median(values[len(paths):])
        for name, values in times.items()
    }


def main(argv=None) -> dict:
    args = parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        files = write_images(folder, args.size, args.images)
        for kind in ('tif', 'png', 'jpg'):
            results[kind] = time_transforms(
                dict(LoadImageFromFile=LoadImageFromFile(),
                     LoadRSImageFromFile=LoadRSImageFromFile()),
                files[kind], args.repeat)
        results['uint16_4band'] = time_transforms(
            dict(LoadRSImageFromFile=LoadRSImageFromFile(
                bands=(3, 2, 1), scale='percentile')),
            files['uint16_4band'], args.repeat)
    for kind, times in results.items():
        line = ', '.join(f'{name} {ms:.2f} ms' for name, ms in times.items())
        print(f'{kind} {args.size}x{args.size}: {line}')
    return results


if __name__ == '__main__':
    main()
