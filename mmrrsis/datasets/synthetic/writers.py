"""Write generated scenes in the RefSegRS and refer on-disk layouts."""
import json
import os
import os.path as osp
import pickle
import shutil
import time
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from mmengine.utils import ProgressBar

from ..masks import decode_rle
from ..text_utils import REFSEGRS_CATEGORIES
from .expressions import Expression, choose_expressions
from .scene import Scene, generate_scene

SPLITS = ('train', 'val', 'test')
META_FILE = 'synthetic_meta.json'


def assign_splits(num_images: int, ratios: Sequence[float],
                  seed: int) -> List[str]:
    """Split images (not samples) into train/val/test.

    All expressions of an image land in the image's split, so no image is
    shared between splits. With at least three images every split gets
    one.

    Args:
        num_images (int): Number of images.
        ratios (Sequence[float]): Relative sizes of train, val and test.
        seed (int): Seed of the shuffle.

    Returns:
        list[str]: The split of each image.
    """
    ratios = np.asarray(ratios, float)
    if ratios.shape != (3, ) or (ratios < 0).any() or ratios.sum() <= 0:
        raise ValueError('split_ratios must be three non-negative numbers '
                         f'(train, val, test), got {list(ratios)}')
    counts = np.floor(ratios / ratios.sum() * num_images).astype(int)
    for i in np.argsort(-ratios)[:num_images - counts.sum()]:
        counts[i] += 1
    if num_images >= 3:  # every split with a positive ratio gets an image
        for i in range(3):
            if counts[i] == 0 and ratios[i] > 0:
                counts[i] += 1
                counts[int(np.argmax(counts))] -= 1
    order = np.random.default_rng(seed).permutation(num_images)
    splits = [''] * num_images
    names = [name for name, c in zip(SPLITS, counts) for _ in range(c)]
    for image, name in zip(order, names):
        splits[int(image)] = name
    return splits


def _scenes(num_images: int, size: int, seed: int, min_expressions: int,
            max_expressions: int, show_progress: bool):
    """Yield (index, scene, expressions); image i depends on (seed, i)."""
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    if not 1 <= min_expressions <= max_expressions:
        raise ValueError('need 1 <= min_expressions <= max_expressions, '
                         f'got {min_expressions}, {max_expressions}')
    bar = ProgressBar(num_images) if show_progress else None
    for index in range(num_images):
        rng = np.random.default_rng([seed, index])
        scene = generate_scene(size, rng)
        exprs = choose_expressions(scene, rng, min_expressions,
                                   max_expressions)
        yield index, scene, exprs
        if bar is not None:
            bar.update()
    if bar is not None:
        print()


def _imwrite(path: str, image: np.ndarray) -> None:
    """Write an image (RGB or single channel); fail loudly."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(path, image):
        raise OSError(f'Could not write {path}')


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link ``dst`` to ``src`` (same image, several ids), else copy."""
    if osp.lexists(dst):
        os.remove(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


#: On-disk layouts of :func:`make_synthetic_refsegrs`: image folder, mask
#: folder, file extension.
TEXT_LAYOUTS = dict(refsegrs=('images', 'masks', '.tif'),
                    risbench=('img_rgb', 'mask', '.png'))


def make_synthetic_refsegrs(root: str,
                            num_images: int = 100,
                            size: int = 512,
                            seed: int = 0,
                            split_ratios: Sequence[float] = (.7, .15, .15),
                            min_expressions: int = 2,
                            max_expressions: int = 5,
                            mask_value: int = 255,
                            category_masks: bool = True,
                            show_progress: bool = True,
                            layout: str = 'refsegrs') -> dict:
    """Generate a RefSegRS-style dataset in RefSegRS' (or RISBench's)
    on-disk layout.

    .. code-block:: none

        root/
          images/<id>.tif          RGB, size x size (hard links for the
                                   other ids of the same image)
          masks/<id>.tif           uint8, 0 / ``mask_value``
          output_phrase_{train,val,test}.txt   "<id> <expression>" lines
          synthetic_meta.json      per id: image, split, expression, kind,
                                   category, instance counts, target area
          category_masks/<id>.tif  every object of the id's category
                                   (0 / ``mask_value``), if asked for

    With ``layout='risbench'`` the files are RISBench's (CroBIM): one PNG
    image and one PNG mask per expression, both named
    ``<split>_<image>_<expression>.png``, under ``img_rgb/`` and ``mask/``,
    and lines ``<file name> <expression>`` (extension included); the
    expressions name RefSegRS' classes (read them with
    ``category_names=REFSEGRS_CATEGORIES`` for per-category scores).

    Each image gets ``min_expressions`` to ``max_expressions`` expressions
    (ids) with pairwise different masks; see
    :mod:`mmrrsis.datasets.synthetic.expressions` for the grammar. Images
    are split 70/15/15 by default, all ids of an image in one split. The
    output is a pure function of the arguments: image ``i`` depends only
    on ``(seed, i)``, so a larger ``num_images`` extends a smaller set.
    Existing files of the same names are replaced.

    Args:
        root (str): Output folder (created if needed).
        num_images (int): Number of distinct images. Defaults to 100.
        size (int): Image side in pixels, >= 16. Defaults to 512.
        seed (int): Random seed. Defaults to 0.
        split_ratios (Sequence[float]): Train, val, test proportions of the
            images. Defaults to (0.7, 0.15, 0.15).
        min_expressions (int): Fewest expressions per image. Defaults to 2.
        max_expressions (int): Most expressions per image. Defaults to 5.
        mask_value (int): Stored value of target pixels (RefSegRS stores
            255; use 1 for 0/1 masks, which a RefSegRS dataset then reads
            with ``mask_threshold=0`` instead of the authors' 50). Defaults
            to 255.
        category_masks (bool): Also write ``category_masks/``, for a
            "every object of the right class" baseline. Defaults to True.
        show_progress (bool): Show a progress bar. Defaults to True.
        layout (str): ``'refsegrs'`` or ``'risbench'``. Defaults to
            'refsegrs'.

    Returns:
        dict: Summary: ``root``, ``num_images``, ``num_samples``, ``size``,
        ``seed``, ``splits`` (samples per split), ``images_per_split``,
        ``kinds`` and ``categories`` (samples per expression kind and
        category), ``strict_subset`` (samples whose target is a strict
        subset of their category) and ``seconds``.
    """
    start = time.perf_counter()
    if not 1 <= mask_value <= 255:
        raise ValueError(f'mask_value must be in [1, 255], got {mask_value}')
    if layout not in TEXT_LAYOUTS:
        raise ValueError(f'layout must be one of {tuple(TEXT_LAYOUTS)}, '
                         f'got {layout!r}')
    img_name, mask_name, ext = TEXT_LAYOUTS[layout]
    img_dir, mask_dir = osp.join(root, img_name), osp.join(root, mask_name)
    cat_dir = osp.join(root, 'category_masks')
    for folder in (img_dir, mask_dir) + ((cat_dir, ) if category_masks
                                         else ()):
        os.makedirs(folder, exist_ok=True)
    splits = assign_splits(num_images, split_ratios, seed)
    lines: Dict[str, List[str]] = {name: [] for name in SPLITS}
    samples = {}
    next_id = 0
    for index, scene, exprs in _scenes(num_images, size, seed,
                                       min_expressions, max_expressions,
                                       show_progress):
        first_img = None
        cat_files: Dict[str, str] = {}
        for k, expr in enumerate(exprs):
            sample_id = str(next_id) if layout == 'refsegrs' else \
                f'{splits[index]}_{index}_{k}'
            next_id += 1
            img_path = osp.join(img_dir, sample_id + ext)
            if first_img is None:
                _imwrite(img_path, scene.image)
                first_img = img_path
            else:
                _link_or_copy(first_img, img_path)
            mask = scene.mask_of(expr.ids)
            _imwrite(osp.join(mask_dir, sample_id + ext),
                     mask * np.uint8(mask_value))
            if category_masks:
                dst = osp.join(cat_dir, sample_id + ext)
                if expr.category in cat_files:
                    _link_or_copy(cat_files[expr.category], dst)
                else:
                    _imwrite(dst, scene.mask_of(expr.category_ids) *
                             np.uint8(mask_value))
                    cat_files[expr.category] = dst
            first_field = sample_id if layout == 'refsegrs' else \
                sample_id + ext
            lines[splits[index]].append(f'{first_field} {expr.text}')
            samples[sample_id] = _sample_meta(index, splits[index], expr,
                                              mask, scene)
    for name in SPLITS:
        with open(osp.join(root, f'output_phrase_{name}.txt'), 'w') as f:
            f.write(''.join(line + '\n' for line in lines[name]))
    summary = _summary(root, num_images, size, seed, splits, samples, start)
    meta = dict(
        generator='mmrrsis.datasets.synthetic.make_synthetic_refsegrs',
        layout=layout,
        num_images=num_images,
        size=size,
        seed=seed,
        split_ratios=list(split_ratios),
        mask_value=mask_value,
        category_masks='category_masks' if category_masks else None,
        samples=samples)
    with open(osp.join(root, META_FILE), 'w') as f:
        json.dump(meta, f, indent=1)
    return summary


def _sample_meta(index: int, split: str, expr: Expression,
                 mask: np.ndarray, scene: Scene) -> dict:
    return dict(
        image=index,
        split=split,
        expression=expr.text,
        kind=expr.kind,
        category=expr.category,
        num_instances=len(expr.ids),
        category_instances=len(expr.category_ids),
        strict_subset=expr.strict,
        area=round(float(mask.mean()), 6))


def _summary(root, num_images, size, seed, splits, samples, start) -> dict:
    names = [n for n in SPLITS if n in splits] + sorted(
        set(splits) - set(SPLITS))
    return dict(
        root=root,
        num_images=num_images,
        num_samples=len(samples),
        size=size,
        seed=seed,
        splits={
            name: sum(s['split'] == name for s in samples.values())
            for name in names
        },
        images_per_split={name: splits.count(name)
                          for name in names},
        kinds=dict(Counter(s['kind'] for s in samples.values())),
        categories=dict(Counter(s['category'] for s in samples.values())),
        strict_subset=sum(s['strict_subset'] for s in samples.values()),
        seconds=round(time.perf_counter() - start, 3))


# ----------------------------------------------------------- refer layout --


def mask_to_polygons(mask: np.ndarray) -> Optional[List[List[float]]]:
    """Polygons (COCO) that pycocotools decodes back to exactly ``mask``.

    The outlines are traced on the mask upsampled twice and scaled back,
    which puts them on pixel edges rather than pixel centres.

    Args:
        mask (np.ndarray): (H, W) mask in {0, 1}.

    Returns:
        list[list[float]] | None: ``[[x1, y1, x2, y2, ...], ...]``, or None
        when the mask has holes or parts no polygon can express exactly.
    """
    up = cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, hierarchy = cv2.findContours(up, cv2.RETR_CCOMP,
                                           cv2.CHAIN_APPROX_SIMPLE)
    if not contours or (hierarchy[0][:, 3] >= 0).any():  # empty or holes
        return None
    polygons = [(c.reshape(-1, 2) / 2.).ravel().tolist() for c in contours]
    if any(len(p) < 6 for p in polygons):
        return None
    h, w = mask.shape
    decoded = decode_rle(
        mask_utils.merge(mask_utils.frPyObjects(polygons, h, w)))
    return polygons if np.array_equal(decoded, mask) else None


def mask_to_rle(mask: np.ndarray, compressed: bool = True) -> dict:
    """COCO RLE of a mask, JSON-ready.

    Args:
        mask (np.ndarray): (H, W) mask in {0, 1}.
        compressed (bool): Compressed ``counts`` string, or the
            uncompressed list of run lengths (column-major, starting with
            a run of zeros). Defaults to True.

    Returns:
        dict: ``{'size': [H, W], 'counts': str | list[int]}``.
    """
    h, w = mask.shape
    if compressed:
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        return dict(size=[h, w], counts=rle['counts'].decode('ascii'))
    flat = mask.ravel(order='F').astype(np.int8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return dict(size=[h, w], counts=runs)


def _overlapping_polygons(mask: np.ndarray, rng: np.random.Generator
                          ) -> Optional[List[List[float]]]:
    """Polygons of two overlapping parts of ``mask`` (union is the mask)."""
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size < 6:
        return None
    cut = int(rng.integers(cols[0] + 2, cols[-1] - 2))
    left, right = mask.copy(), mask.copy()
    left[:, cut + 2:] = 0
    right[:, :cut - 1] = 0
    if not (left & right).any():
        return None
    parts = [mask_to_polygons(left), mask_to_polygons(right)]
    if any(p is None for p in parts):
        return None
    return parts[0] + parts[1]


_PARAPHRASES = ('{}', 'the {}', '{} in the image', 'all the {}')
#: The datasets whose images are MS COCO's (the refer toolkit's folder and
#: file names).
COCO_DATASETS = ('refcoco', 'refcoco+', 'refcocog')
COCO_IMAGE_DIR = osp.join('images', 'mscoco', 'images', 'train2014')


def refer_splits(splits: Sequence[str], dataset: str,
                 split_by: str) -> List[str]:
    """The published split names of a refer dataset, from train/val/test.

    RefCOCO and RefCOCO+ (``unc``) have val, testA and testB (the test
    images are given to testA and testB in turn), RefCOCOg ``google``
    train and val (test images become val), everything else (RefCOCOg
    ``umd``, RRSIS-D) train, val and test.

    Args:
        splits (Sequence[str]): Each image's split from
            :func:`assign_splits`.
        dataset (str): The dataset folder name.
        split_by (str): The refs file's ``split_by``.

    Returns:
        list[str]: Each image's split.
    """
    if dataset in ('refcoco', 'refcoco+', 'grefcoco') and split_by == 'unc':
        tests = iter(range(len(splits)))
        return [
            s if s != 'test' else ('testA', 'testB')[next(tests) % 2]
            for s in splits
        ]
    if dataset == 'refcocog' and split_by == 'google':
        return ['val' if s == 'test' else s for s in splits]
    return list(splits)


def refer_image_name(dataset: str, image_id: int) -> str:
    """``COCO_train2014_<id:012d>.jpg`` for COCO's images, else
    ``<id:05d>.jpg`` (RRSIS-D)."""
    if dataset in COCO_DATASETS + ('grefcoco', ):
        return f'COCO_train2014_{image_id:012d}.jpg'
    return f'{image_id:05d}.jpg'

#: Segmentation encodings of :func:`make_synthetic_refer`.
REFER_ENCODINGS = ('rle', 'polygons', 'mixed')


def make_synthetic_refer(root: str,
                         num_images: int = 100,
                         size: int = 512,
                         seed: int = 0,
                         dataset: str = 'rrsisd',
                         split_by: str = 'unc',
                         image_dir: Optional[str] = None,
                         split_ratios: Sequence[float] = (.7, .15, .15),
                         min_expressions: int = 2,
                         max_expressions: int = 4,
                         max_sentences: int = 3,
                         encoding: str = 'auto',
                         rle_ratio: float = .4,
                         overlap_ratio: float = .3,
                         show_progress: bool = True) -> dict:
    """Generate a dataset in the refer layout (RRSIS-D, RefCOCO).

    .. code-block:: none

        root/
          <dataset>/refs(<split_by>).p     refs: ref_id, ann_id, image_id,
                                           split, sentences, sent_ids,
                                           category_id, file_name
          <dataset>/instances.json         COCO images, annotations,
                                           categories (RefSegRS' classes)
          <image_dir>/<name>.jpg           JPEG images: RRSIS-D's
                                           <image_id:05d>.jpg under
                                           images/<dataset>/JPEGImages, or
                                           RefCOCO's COCO_train2014_<id>.jpg
                                           under images/mscoco/images/
                                           train2014
          <dataset>/synthetic_meta.json    per ref_id: text, kind,
                                           category, encoding, mask file
          <dataset>/synthetic_masks/<ref_id>.png   exact target (0/1)

    Each expression of an image is one ref with one annotation whose
    segmentation is the target, in the encoding of the published files
    (``encoding='auto'``):

    - ``'rle'`` (RRSIS-D's, the default for ``dataset='rrsisd'``): a list
      holding one compressed RLE dict with a str ``counts``;
    - ``'polygons'`` (RefCOCO's, the default for any other ``dataset``):
      polygon lists that decode exactly to the target; a share
      ``overlap_ratio`` of them is written as two overlapping parts (only
      their union is the target; the refer API drops the overlap); a
      target no polygon can express exactly (a mask with holes) is written
      as a list of one compressed RLE, as COCO does for such masks;
    - ``'mixed'``: every form the loader reads, for its tests (not a
      published format): bare compressed and uncompressed RLE dicts (share
      ``rle_ratio``), polygons and overlapping polygons.

    Either way the refer API's own ``getMask`` logic reads the
    annotations (``ann['segmentation'][0]`` is a polygon list or an RLE
    dict). A ref has 1 to ``max_sentences`` sentences (paraphrases of the
    expression). Splits are the published ones (:func:`refer_splits`):
    RefCOCO / RefCOCO+ (``unc``) train, val, testA and testB; RefCOCOg
    ``umd`` train, val and test.

    Args:
        root (str): Output folder, the refer ``data`` folder.
        num_images (int): Number of images. Defaults to 100.
        size (int): Image side in pixels, >= 16. Defaults to 512.
        seed (int): Random seed. Defaults to 0.
        dataset (str): Dataset folder name. Defaults to 'rrsisd'.
        split_by (str): Name in ``refs(<split_by>).p``. Defaults to 'unc'.
        image_dir (str, optional): Image folder relative to ``root``.
            Defaults to None: ``images/mscoco/images/train2014`` for
            RefCOCO, RefCOCO+ and RefCOCOg, else
            ``images/<dataset>/JPEGImages``.
        split_ratios (Sequence[float]): Train, val, test proportions of the
            images. Defaults to (0.7, 0.15, 0.15).
        min_expressions (int): Fewest refs per image. Defaults to 2.
        max_expressions (int): Most refs per image. Defaults to 4.
        max_sentences (int): Most sentences per ref. Defaults to 3.
        encoding (str): ``'auto'``, ``'rle'``, ``'polygons'`` or
            ``'mixed'``, see above. Defaults to 'auto'.
        rle_ratio (float): Share of RLE annotations with
            ``encoding='mixed'``. Defaults to 0.4.
        overlap_ratio (float): Share of polygon annotations written as two
            overlapping parts. Defaults to 0.3.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: Summary as :func:`make_synthetic_refsegrs` (samples are refs)
        plus ``num_sentences``, ``encodings`` (annotations per encoding),
        ``refs_file``, ``instances_file`` and ``image_dir``.
    """
    start = time.perf_counter()
    if encoding == 'auto':
        encoding = 'rle' if dataset == 'rrsisd' else 'polygons'
    if encoding not in REFER_ENCODINGS:
        raise ValueError(f"encoding must be 'auto' or one of "
                         f'{REFER_ENCODINGS}, got {encoding!r}')
    if not 1 <= max_sentences <= len(_PARAPHRASES):
        raise ValueError(f'max_sentences must be in [1, {len(_PARAPHRASES)}]'
                         f', got {max_sentences}')
    if image_dir is None:
        image_dir = COCO_IMAGE_DIR if dataset in COCO_DATASETS else \
            osp.join('images', dataset, 'JPEGImages')
    ann_dir = osp.join(root, dataset)
    mask_dir = osp.join(ann_dir, 'synthetic_masks')
    for folder in (osp.join(root, image_dir), ann_dir, mask_dir):
        os.makedirs(folder, exist_ok=True)
    cat_ids = {name: i + 1 for i, name in enumerate(REFSEGRS_CATEGORIES)}
    splits = refer_splits(assign_splits(num_images, split_ratios, seed),
                          dataset, split_by)
    images, annotations, refs = [], [], []
    samples = {}
    sent_id = 0
    for index, scene, exprs in _scenes(num_images, size, seed,
                                       min_expressions, max_expressions,
                                       show_progress):
        image_id = index + 1
        file_name = refer_image_name(dataset, image_id)
        bgr = cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(
                osp.join(root, image_dir, file_name), bgr,
            [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f'Could not write {file_name}')
        images.append(
            dict(id=image_id, file_name=file_name, height=size, width=size))
        rng = np.random.default_rng([seed, index, 1])
        for expr in exprs:
            ann_id = ref_id = len(annotations) + 1
            mask = scene.mask_of(expr.ids)
            segmentation, written = _encode(mask, rng, encoding,
                                            rle_ratio, overlap_ratio)
            ys, xs = np.nonzero(mask)
            annotations.append(
                dict(
                    id=ann_id,
                    image_id=image_id,
                    category_id=cat_ids[expr.category],
                    segmentation=segmentation,
                    area=int(mask.sum()),
                    bbox=[
                        int(xs.min()),
                        int(ys.min()),
                        int(xs.max() - xs.min() + 1),
                        int(ys.max() - ys.min() + 1)
                    ],
                    iscrowd=0))
            n_sent = int(rng.integers(1, max_sentences + 1))
            sentences = []
            for template in _PARAPHRASES[:n_sent]:
                text = template.format(expr.text)
                sentences.append(
                    dict(raw=text, sent=text, tokens=text.split(),
                         sent_id=sent_id))
                sent_id += 1
            refs.append(
                dict(
                    ref_id=ref_id,
                    ann_id=ann_id,
                    image_id=image_id,
                    split=splits[index],
                    sentences=sentences,
                    sent_ids=[s['sent_id'] for s in sentences],
                    category_id=cat_ids[expr.category],
                    file_name=f'{file_name[:-4]}_{ann_id}.jpg'))
            mask_file = osp.join('synthetic_masks', f'{ref_id}.png')
            if not cv2.imwrite(osp.join(ann_dir, mask_file), mask):
                raise OSError(f'Could not write {mask_file}')
            info = _sample_meta(index, splits[index], expr, mask, scene)
            info.update(
                image_id=image_id,
                sentences=[s['raw'] for s in sentences],
                encoding=written,
                mask_file=mask_file)
            samples[str(ref_id)] = info
    refs_file = osp.join(ann_dir, f'refs({split_by}).p')
    with open(refs_file, 'wb') as f:
        pickle.dump(refs, f)
    instances_file = osp.join(ann_dir, 'instances.json')
    with open(instances_file, 'w') as f:
        json.dump(
            dict(
                info=dict(description='mmrrsis synthetic refer data'),
                images=images,
                annotations=annotations,
                categories=[
                    dict(id=i, name=n, supercategory=n)
                    for n, i in cat_ids.items()
                ]), f)
    summary = _summary(root, num_images, size, seed, splits, samples, start)
    summary.update(
        num_sentences=sent_id,
        encodings=dict(Counter(s['encoding'] for s in samples.values())),
        refs_file=refs_file,
        instances_file=instances_file,
        image_dir=osp.join(root, image_dir))
    meta = dict(
        generator='mmrrsis.datasets.synthetic.make_synthetic_refer',
        layout='refer',
        dataset=dataset,
        num_images=num_images,
        size=size,
        seed=seed,
        split_ratios=list(split_ratios),
        samples=samples)
    with open(osp.join(ann_dir, META_FILE), 'w') as f:
        json.dump(meta, f, indent=1)
    return summary


def _encode(mask: np.ndarray, rng: np.random.Generator, encoding: str,
            rle_ratio: float, overlap_ratio: float) -> Tuple[object, str]:
    """Segmentation of a target and the name of the form written."""
    if encoding == 'rle':
        return [mask_to_rle(mask)], 'rle_list'
    if encoding == 'polygons' or rng.random() >= rle_ratio:
        if rng.random() < overlap_ratio:
            polygons = _overlapping_polygons(mask, rng)
            if polygons is not None:
                return polygons, 'overlapping_polygons'
        polygons = mask_to_polygons(mask)
        if polygons is not None:
            return polygons, 'polygons'
        if encoding == 'polygons':
            return [mask_to_rle(mask)], 'rle_list'
    if rng.random() < .5:
        return mask_to_rle(mask, compressed=False), 'rle_uncompressed'
    return mask_to_rle(mask), 'rle'
