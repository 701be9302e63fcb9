"""A generalized referring set (no-target and multi-target expressions)
in gRefCOCO's schema."""
import json
import os
import os.path as osp
import time
from collections import Counter
from typing import Dict, List, Sequence

import cv2
import numpy as np

from ..text_utils import REFSEGRS_CATEGORIES
from .expressions import RULES, ExpressionRule
from .scene import Scene
from .writers import (
    _PARAPHRASES,
    META_FILE,
    _sample_meta,
    _scenes,
    _summary,
    assign_splits,
    mask_to_polygons,
    mask_to_rle,
    refer_image_name,
    refer_splits,
)

__all__ = ['no_target_rules', 'make_synthetic_grefer']


def no_target_rules(scene: Scene) -> List[ExpressionRule]:
    """Grammar expressions that match nothing on ``scene``.

    Two kinds, both "the red car" on a parking lot with none: a class that
    is absent (``bus`` on a scene without buses), and an attribute or
    relation no object of a present class has (``long truck`` among short
    trucks, ``red car`` among cars of other colours), which a model can
    only reject by reading the words beyond the class.

    Args:
        scene (Scene): The scene.

    Returns:
        list[ExpressionRule]: The rules with an empty target.
    """
    return [rule for rule in RULES if not rule.select(scene)]


def _absent_attribute(rule: ExpressionRule, scene: Scene) -> bool:
    """Whether the rule's class is present (only its attribute is not)."""
    return bool(scene.ids_of(rule.category)) and rule.kind != 'category'


def make_synthetic_grefer(root: str,
                          num_images: int = 100,
                          size: int = 512,
                          seed: int = 0,
                          split_ratios: Sequence[float] = (.7, .15, .15),
                          min_expressions: int = 2,
                          max_expressions: int = 4,
                          no_target_ratio: float = .25,
                          max_sentences: int = 2,
                          show_progress: bool = True) -> dict:
    """Generate a generalized referring set in gRefCOCO's schema (ReLA's
    layout).

    .. code-block:: none

        root/
          grefcoco/grefs(unc).json      refs: ref_id, image_id, split,
                                        ann_id (a list; [-1] = no
                                        target), category_id (a list),
                                        sentences, sent_ids, file_name
          grefcoco/instances.json       COCO images, one annotation per
                                        object (polygons, or an RLE list
                                        when no polygon is exact),
                                        categories (RefSegRS' classes)
          images/train2014/COCO_train2014_<id:012d>.jpg
          grefcoco/synthetic_meta.json  per ref_id: text, kind, target
                                        (no_target / single / multi), ...
          grefcoco/synthetic_masks/<ref_id>.png   exact target (0/1)

    Each image gets ``min_expressions`` to ``max_expressions`` targeted
    expressions of the RefSegRS-style grammar: an expression naming a
    class with several visible instances (``car``, ``vehicle in the
    parking area``) is **multi-target**, its ``ann_id`` lists every
    instance; and, in about ``no_target_ratio`` of all refs, **no-target**
    expressions (``ann_id: [-1]``) naming an absent class or, preferably,
    an attribute or relation no object of a present class has
    (:func:`no_target_rules`). Splits as gRefCOCO's: train, val, testA,
    testB (test images go to testA and testB in turn).

    Args:
        root (str): Output folder (the ``data_root`` of
            :class:`~mmrrsis.datasets.GRefCOCODataset`).
        num_images (int): Number of images. Defaults to 100.
        size (int): Image side in pixels, >= 16. Defaults to 512.
        seed (int): Random seed. Defaults to 0.
        split_ratios (Sequence[float]): Train, val, test proportions of the
            images. Defaults to (0.7, 0.15, 0.15).
        min_expressions (int): Fewest targeted refs per image. Defaults to
            2.
        max_expressions (int): Most targeted refs per image. Defaults to 4.
        no_target_ratio (float): Expected share of no-target refs, in
            [0, 0.5]. Defaults to 0.25.
        max_sentences (int): Most sentences per ref. Defaults to 2.
        show_progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: As :func:`make_synthetic_refer` (samples are refs), plus
        ``targets`` counting ``no_target``, ``single`` and ``multi`` refs.
    """
    start = time.perf_counter()
    if not 0 <= no_target_ratio <= .5:
        raise ValueError('no_target_ratio must be in [0, 0.5], got '
                         f'{no_target_ratio}')
    if not 1 <= max_sentences <= len(_PARAPHRASES):
        raise ValueError(f'max_sentences must be in [1, {len(_PARAPHRASES)}]'
                         f', got {max_sentences}')
    ann_dir = osp.join(root, 'grefcoco')
    img_dir = osp.join(root, 'images', 'train2014')
    mask_dir = osp.join(ann_dir, 'synthetic_masks')
    for folder in (ann_dir, img_dir, mask_dir):
        os.makedirs(folder, exist_ok=True)
    cat_ids = {name: i + 1 for i, name in enumerate(REFSEGRS_CATEGORIES)}
    splits = refer_splits(assign_splits(num_images, split_ratios, seed),
                          'grefcoco', 'unc')
    extra = no_target_ratio / (1 - no_target_ratio)
    images, annotations, refs = [], [], []
    samples: Dict[str, dict] = {}
    sent_id = 0
    for index, scene, exprs in _scenes(num_images, size, seed,
                                       min_expressions, max_expressions,
                                       show_progress):
        image_id = index + 1
        file_name = refer_image_name('grefcoco', image_id)
        if not cv2.imwrite(osp.join(img_dir, file_name),
                           cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f'Could not write {file_name}')
        images.append(dict(id=image_id, file_name=file_name, height=size,
                           width=size))
        rng = np.random.default_rng([seed, index, 2])
        ann_of: Dict[int, int] = {}  # object id -> annotation id
        chosen = [(e.text, e.category, tuple(e.ids), e) for e in exprs]
        empty = no_target_rules(scene)
        n_empty = min(int(rng.binomial(len(exprs), min(extra, 1.))),
                      len(empty))
        if n_empty:
            weights = np.array([3. if _absent_attribute(r, scene) else 1.
                                for r in empty])
            for i in rng.choice(len(empty), n_empty, replace=False,
                                p=weights / weights.sum()):
                rule = empty[int(i)]
                chosen.append((rule.text, rule.category, (), None))
        for text, category, ids, expr in chosen:
            for obj_id in ids:
                if obj_id not in ann_of:
                    ann_of[obj_id] = len(annotations) + 1
                    annotations.append(_annotation(
                        ann_of[obj_id], image_id, scene, obj_id, cat_ids))
            ref_id = len(refs) + 1
            n_sent = int(rng.integers(1, max_sentences + 1))
            sentences = []
            for template in _PARAPHRASES[:n_sent]:
                sentence = template.format(text)
                sentences.append(dict(raw=sentence, sent=sentence,
                                      tokens=sentence.split(),
                                      sent_id=sent_id))
                sent_id += 1
            refs.append(dict(
                ref_id=ref_id, image_id=image_id, split=splits[index],
                ann_id=sorted(ann_of[i] for i in ids) or [-1],
                category_id=sorted({
                    cat_ids[scene.objects[i].category] for i in ids}),
                sentences=sentences,
                sent_ids=[s['sent_id'] for s in sentences],
                file_name=f'{file_name[:-4]}_{ref_id}.jpg'))
            mask = scene.mask_of(ids) if ids else np.zeros(
                (size, size), np.uint8)
            mask_file = osp.join('synthetic_masks', f'{ref_id}.png')
            if not cv2.imwrite(osp.join(ann_dir, mask_file), mask):
                raise OSError(f'Could not write {mask_file}')
            if expr is not None:
                info = _sample_meta(index, splits[index], expr, mask, scene)
            else:
                rule = next(r for r in empty if r.text == text)
                info = dict(image=index, split=splits[index],
                            expression=text, kind=rule.kind,
                            category=category, num_instances=0,
                            category_instances=len(scene.ids_of(category)),
                            strict_subset=False, area=0.)
            info.update(
                target='no_target' if not ids else
                ('multi' if len(ids) > 1 else 'single'),
                image_id=image_id,
                sentences=[s['raw'] for s in sentences],
                mask_file=mask_file)
            samples[str(ref_id)] = info
    with open(osp.join(ann_dir, 'grefs(unc).json'), 'w') as f:
        json.dump(refs, f)
    with open(osp.join(ann_dir, 'instances.json'), 'w') as f:
        json.dump(dict(
            info=dict(description='mmrrsis synthetic generalized referring '
                      'data (gRefCOCO schema)'),
            images=images, annotations=annotations,
            categories=[dict(id=i, name=n, supercategory=n)
                        for n, i in cat_ids.items()]), f)
    summary = _summary(root, num_images, size, seed, splits, samples, start)
    summary.update(
        num_sentences=sent_id,
        targets=dict(Counter(s['target'] for s in samples.values())),
        refs_file=osp.join(ann_dir, 'grefs(unc).json'),
        instances_file=osp.join(ann_dir, 'instances.json'),
        image_dir=img_dir)
    with open(osp.join(ann_dir, META_FILE), 'w') as f:
        json.dump(dict(
            generator='mmrrsis.datasets.synthetic.make_synthetic_grefer',
            layout='grefcoco', num_images=num_images, size=size, seed=seed,
            split_ratios=list(split_ratios),
            no_target_ratio=no_target_ratio, samples=samples), f, indent=1)
    return summary


def _annotation(ann_id: int, image_id: int, scene: Scene, obj_id: int,
                cat_ids: Dict[str, int]) -> dict:
    """The COCO annotation of one object: polygons when they decode to
    the object's mask exactly, else a list of one compressed RLE."""
    mask = scene.mask_of([obj_id])
    polygons = mask_to_polygons(mask)
    ys, xs = np.nonzero(mask)
    return dict(
        id=ann_id, image_id=image_id,
        category_id=cat_ids[scene.objects[obj_id].category],
        segmentation=polygons if polygons is not None else
        [mask_to_rle(mask)],
        area=int(mask.sum()), iscrowd=0,
        bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
              int(ys.max() - ys.min() + 1)])
