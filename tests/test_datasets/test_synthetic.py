"""The generator: determinism, layout, and expressions that matter."""
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import cv2
import numpy as np
import published_formats
import pytest

from mmrrsis.datasets.synthetic import (
    META_FILE,
    RULES,
    assign_splits,
    candidate_expressions,
    generate_scene,
    make_synthetic_refer,
    make_synthetic_refsegrs,
    mask_to_polygons,
    mask_to_rle,
)
from mmrrsis.datasets.text_utils import find_category
from mmrrsis.datasets.transforms import decode_segmentation


def _tree_files(root):
    out = []
    for folder, _, files in os.walk(root):
        out += [osp.relpath(osp.join(folder, f), root) for f in files]
    return sorted(out)


def test_deterministic_for_a_seed(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    sa = make_synthetic_refsegrs(a, 5, size=48, seed=7, show_progress=False)
    sb = make_synthetic_refsegrs(b, 5, size=48, seed=7, show_progress=False)
    make_synthetic_refsegrs(c, 5, size=48, seed=8, show_progress=False)
    files = _tree_files(a)
    assert files == _tree_files(b)
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors
    assert {k: v for k, v in sa.items() if k not in ('root', 'seconds')} == \
        {k: v for k, v in sb.items() if k not in ('root', 'seconds')}
    assert not filecmp.cmp(
        osp.join(a, 'images', '0.tif'), osp.join(c, 'images', '0.tif'),
        shallow=False)


def test_layout_and_language_matters(refsegrs_root):
    root, summary = refsegrs_root
    meta = json.load(open(osp.join(root, 'synthetic_meta.json')))['samples']
    lines = {}
    for split in ('train', 'val', 'test'):
        for line in open(osp.join(root, f'output_phrase_{split}.txt')):
            sample_id, text = line.rstrip('\n').split(' ', 1)
            assert text == text.strip() and '  ' not in text
            lines[sample_id] = (split, text)
    assert len(lines) == summary['num_samples'] == len(meta)
    by_image = defaultdict(list)
    for sample_id, (split, text) in lines.items():
        info = meta[sample_id]
        assert info['split'] == split and info['expression'] == text
        assert info['category'] == find_category(text)
        assert all(w.replace('-', '').isalpha() and w.islower()
                   for w in text.split())
        by_image[info['image']].append(sample_id)
        mask = cv2.imread(osp.join(root, 'masks', sample_id + '.tif'), 0)
        cat = cv2.imread(
            osp.join(root, 'category_masks', sample_id + '.tif'), 0)
        assert mask.shape == (64, 64) and set(np.unique(mask)) <= {0, 255}
        assert mask.any()
        assert not (mask & ~cat).any()  # target within its category
        assert (mask != cat).any() == info['strict_subset']
    assert len(by_image) == 6
    for ids in by_image.values():
        assert len({meta[i]['split'] for i in ids}) == 1  # no leakage
        images = [
            open(osp.join(root, 'images', i + '.tif'), 'rb').read()
            for i in ids
        ]
        assert all(img == images[0] for img in images)
        masks = {
            cv2.imread(osp.join(root, 'masks', i + '.tif'), 0).tobytes()
            for i in ids
        }
        assert len(masks) == len(ids) >= 2  # same image, different masks
    assert summary['strict_subset'] > 0


def test_expressions_select_strict_subsets_often():
    strict, pairs = 0, 0
    for i in range(12):
        scene = generate_scene(96, np.random.default_rng([11, i]))
        cands = candidate_expressions(scene)
        by_text = {c.text: c for c in cands}
        for c in cands:
            assert scene.mask_of(c.ids).any()
            if c.kind != 'category' and c.strict:
                strict += 1
                bare = by_text.get(c.category)
                if bare is not None:
                    assert set(c.ids) < set(bare.ids)
                    assert (scene.mask_of(c.ids) !=
                            scene.mask_of(bare.ids)).any()
                    pairs += 1
        assert len({frozenset(c.ids) for c in cands}) == len(cands)
    assert strict >= 12 and pairs >= 12
    texts = {r.text for r in RULES}
    assert {'long truck', 'light-duty vehicle', 'building along the road',
            'vehicle in the parking area', 'tree near the building',
            'car on the road', 'car in the parking area'} <= texts


def test_scene_covers_the_vocabulary():
    cats, kinds = set(), set()
    for i in range(10):
        scene = generate_scene(128, np.random.default_rng([2, i]))
        assert scene.image.shape == (128, 128, 3)
        assert scene.image.dtype == np.uint8
        assert scene.instance_map.shape == (128, 128)
        assert scene.areas.sum() == 128 * 128
        cats |= {o.category for o in scene.objects[1:]
                 if scene.areas[o.id]}
        kinds |= {c.kind for c in candidate_expressions(scene)}
    assert {'car', 'van', 'truck', 'bus', 'trailer', 'building', 'tree',
            'road', 'road marking', 'sidewalk', 'low vegetation',
            'impervious surface'} <= cats
    assert kinds == {'category', 'attribute', 'relation'}
    with pytest.raises(ValueError):
        generate_scene(8)


@pytest.mark.parametrize('n,ratios,expected', [
    (20, (.7, .15, .15), (14, 3, 3)),
    (3, (.7, .15, .15), (1, 1, 1)),
    (10, (1, 0, 0), (10, 0, 0)),
    (7, (1, 1, 1), (3, 2, 2)),
])
def test_assign_splits(n, ratios, expected):
    splits = assign_splits(n, ratios, seed=0)
    assert tuple(splits.count(s) for s in ('train', 'val', 'test')) == \
        expected
    with pytest.raises(ValueError):
        assign_splits(5, (1, 1), seed=0)


def test_mask_codecs_round_trip():
    mask = np.zeros((30, 40), np.uint8)
    mask[3:9, 4:30] = 1
    cv2.circle(mask, (20, 20), 6, 1, -1)
    polys = mask_to_polygons(mask)
    assert polys is not None
    np.testing.assert_array_equal(decode_segmentation(polys, 30, 40), mask)
    ring = mask.copy()
    ring[5:7, 10:12] = 0  # a hole: no exact polygon
    assert mask_to_polygons(ring) is None
    for compressed in (True, False):
        rle = mask_to_rle(ring, compressed)
        json.dumps(rle)
        np.testing.assert_array_equal(decode_segmentation(rle, 30, 40), ring)


def test_refer_generator_writes_refer_layout(refer_root):
    root, summary = refer_root
    assert summary['num_sentences'] >= summary['num_samples']
    assert osp.isfile(osp.join(root, 'rrsisd', 'refs(unc).p'))
    assert len(os.listdir(osp.join(root, 'images', 'rrsisd',
                                   'JPEGImages'))) == 8
    with pytest.raises(ValueError, match='max_sentences'):
        make_synthetic_refer(root, 1, max_sentences=9, show_progress=False)


@pytest.mark.parametrize('dataset', ['rrsisd', 'refcoco'])
def test_refer_generator_writes_published_encodings(tmp_path, dataset):
    """RRSIS-D: a list of one compressed RLE with str counts; RefCOCO:
    polygons. Read by the refer API's own getMask logic (re-implemented
    in published_formats.refer_api_mask): ``segmentation[0]`` decides."""
    root = str(tmp_path)
    summary = make_synthetic_refer(root, 6, size=48, seed=4,
                                   dataset=dataset, overlap_ratio=.5,
                                   show_progress=False)
    instances = json.load(open(osp.join(root, dataset, 'instances.json')))
    meta = json.load(open(osp.join(root, dataset,
                                   'synthetic_meta.json')))['samples']
    written = set(summary['encodings'])
    if dataset == 'rrsisd':
        assert written == {'rle_list'}
    else:
        assert 'polygons' in written and 'overlapping_polygons' in written
        assert written <= {'polygons', 'overlapping_polygons', 'rle_list'}
    for ann in instances['annotations']:
        seg = ann['segmentation']
        assert isinstance(seg, list) and seg  # never a bare dict
        target = cv2.imread(
            osp.join(root, dataset, meta[str(ann['id'])]['mask_file']),
            cv2.IMREAD_UNCHANGED)
        if isinstance(seg[0], dict):
            assert len(seg) == 1 and isinstance(seg[0]['counts'], str)
            assert seg[0]['size'] == [48, 48]
        else:
            assert all(isinstance(p, list) for p in seg)
        refer = published_formats.refer_api_mask(seg, 48, 48)
        np.testing.assert_array_equal(
            refer, decode_segmentation(seg, 48, 48, overlap='refer'))
        np.testing.assert_array_equal(decode_segmentation(seg, 48, 48),
                                      target)
        if meta[str(ann['id'])]['encoding'] != 'overlapping_polygons':
            np.testing.assert_array_equal(refer, target)
    with pytest.raises(ValueError, match='encoding'):
        make_synthetic_refer(root, 1, encoding='bitmap', show_progress=False)


def test_cli(tmp_path):
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    script = osp.join(repo, 'tools', 'dataset_converters',
                      'make_synthetic_refsegrs.py')
    out = subprocess.run(
        [sys.executable, script, str(tmp_path), '--num-images', '3',
         '--size', '32', '--seed', '2', '--mask-value', '1'],
        capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout[out.stdout.index('{'):])
    assert summary['num_images'] == 3 and summary['size'] == 32
    assert '3/3' in out.stdout  # the progress bar
    mask = cv2.imread(str(tmp_path / 'masks' / '0.tif'), 0)
    assert set(np.unique(mask)) == {0, 1}


def test_refcoco_layout_and_unc_splits(configs_dir, tmp_path):
    """--dataset refcoco writes RefCOCO's layout (COCO file names under
    images/mscoco/images/train2014) and UNC splits, so refcoco.py's test
    loader (val, testA and testB in one run) reads generated data."""
    from mmengine import Config

    from mmrrsis.registry import DATASETS
    root = str(tmp_path)
    summary = make_synthetic_refer(root, num_images=6, size=32, seed=4,
                                   dataset='refcoco',
                                   split_ratios=(1, 1, 1),
                                   show_progress=False)
    assert summary['images_per_split'] == dict(train=2, val=2, testA=1,
                                               testB=1)
    names = sorted(os.listdir(osp.join(root, 'images', 'mscoco', 'images',
                                       'train2014')))
    assert names[0] == 'COCO_train2014_000000000001.jpg' and len(names) == 6
    cfg = Config.fromfile(osp.join(configs_dir, 'refcoco.py'))
    cfg.test_dataloader.dataset.update(data_root=root)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert {test.get_data_info(i)['split'] for i in range(len(test))} == {
        'val', 'testA', 'testB'}
    assert test[0]['inputs'].shape == (3, 480, 480)
    g = make_synthetic_refer(str(tmp_path / 'g'), num_images=6, size=32,
                             seed=4, dataset='refcocog', split_by='umd',
                             split_ratios=(1, 1, 1), show_progress=False)
    assert set(g['splits']) == {'train', 'val', 'test'}


def test_risbench_layout(configs_dir, tmp_path):
    from mmengine import Config

    from mmrrsis.datasets import REFSEGRS_CATEGORIES
    from mmrrsis.registry import DATASETS
    root = str(tmp_path)
    summary = make_synthetic_refsegrs(root, num_images=4, size=32, seed=1,
                                      layout='risbench', show_progress=False)
    cfg = Config.fromfile(osp.join(configs_dir, 'risbench.py'))
    total = 0
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset
        # the generated expressions name RefSegRS' classes
        ds_cfg.update(data_root=root, pipeline=cfg.test_pipeline,
                      category_names=REFSEGRS_CATEGORIES)
        ds = DATASETS.build(ds_cfg)
        assert len(ds) == summary['splits'][split]
        total += len(ds)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            name = osp.basename(info['img_path'])
            assert name.startswith(split + '_') and name.endswith('.png')
            assert osp.dirname(info['img_path']).endswith('img_rgb')
            assert info['seg_map_path'].endswith(osp.join('mask', name))
            assert ds[i]['data_samples'].gt_sem_seg.data.max() == 1
    assert total == summary['num_samples']
    with pytest.raises(ValueError, match='layout must be one of'):
        make_synthetic_refsegrs(root, num_images=1, layout='coco')


def test_generalized_set_in_grefcoco_schema(configs_dir, tmp_path):
    """The generator's generalized set: gRefCOCO's schema and layout,
    no-target refs (ann_id [-1]) naming an absent class or attribute,
    multi-target refs whose masks are the union of their instances; read
    by the gRefCOCO config's dataset class with exact masks."""
    from mmengine import Config

    from mmrrsis.datasets.synthetic import make_synthetic_grefer
    from mmrrsis.registry import DATASETS
    root = str(tmp_path)
    summary = make_synthetic_grefer(root, num_images=8, size=48, seed=3,
                                    split_ratios=(2, 1, 1),
                                    no_target_ratio=.3, show_progress=False)
    refs = json.load(open(osp.join(root, 'grefcoco', 'grefs(unc).json')))
    meta = json.load(open(osp.join(root, 'grefcoco', META_FILE)))['samples']
    assert summary['targets']['no_target'] > 0
    assert summary['targets']['multi'] > 0
    assert set(summary['splits']) == {'train', 'val', 'testA', 'testB'}
    for ref in refs:
        assert isinstance(ref['ann_id'], list)
        info = meta[str(ref['ref_id'])]
        if ref['ann_id'] == [-1]:
            assert info['target'] == 'no_target' and info['area'] == 0
        else:
            assert len(ref['ann_id']) == info['num_instances']
    cfg = Config.fromfile(osp.join(configs_dir, 'grefcoco.py'))
    seen = 0
    for split in ('train', 'val', 'testA', 'testB'):
        ds_cfg = dict(cfg.val_dataloader.dataset, data_root=root,
                      split=split, pipeline=cfg.test_pipeline)
        ds = DATASETS.build(ds_cfg)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            exact = cv2.imread(osp.join(
                root, 'grefcoco', meta[str(info['ref_id'])]['mask_file']),
                cv2.IMREAD_UNCHANGED)
            sample = ds[i]['data_samples']
            np.testing.assert_array_equal(
                sample.gt_sem_seg.data[0].numpy(), exact)
            assert sample.no_target == (exact.sum() == 0)
            seen += 1
    assert seen == summary['num_sentences']


def test_no_target_rules_match_nothing():
    from mmrrsis.datasets.synthetic import no_target_rules
    scene = generate_scene(64, np.random.default_rng(7))
    rules = no_target_rules(scene)
    assert rules and all(not r.select(scene) for r in rules)
