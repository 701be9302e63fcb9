"""ReferDataset / RRSISDDataset on generated refer-format folders."""
import json
import os.path as osp
import pickle

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from mmengine import Config

from mmrrsis.datasets import ReferDataset, RRSISDDataset
from mmrrsis.datasets.synthetic import make_synthetic_refer
from mmrrsis.datasets.transforms.loading import decode_rle
from mmrrsis.registry import DATASETS


def _files(root, dataset='rrsisd'):
    refs = pickle.load(open(osp.join(root, dataset, 'refs(unc).p'), 'rb'))
    instances = json.load(open(osp.join(root, dataset, 'instances.json')))
    meta = json.load(open(osp.join(root, dataset, 'synthetic_meta.json')))
    return refs, instances, meta['samples']


def _build(configs_dir, root, loader, name='rrsisd.py', **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, name))
    ds_cfg = cfg[loader]['dataset']
    ds_cfg.update(data_root=root, **overrides)
    return DATASETS.build(ds_cfg)


def test_generated_files_have_both_encodings(refer_root):
    root, summary = refer_root
    refs, instances, _ = _files(root)
    kinds = set()
    for ann in instances['annotations']:
        seg = ann['segmentation']
        if isinstance(seg, dict):
            kinds.add('rle_list' if isinstance(seg['counts'], list) else
                      'rle_str')
        else:
            kinds.add('polygons')
    assert kinds == {'polygons', 'rle_list', 'rle_str'}
    assert summary['encodings'].get('overlapping_polygons', 0) > 0
    assert {r['split'] for r in refs} == {'train', 'val', 'test'}
    assert osp.isfile(
        osp.join(root, 'images', 'rrsisd', 'JPEGImages', '00001.jpg'))


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_all_mode_one_sample_per_sentence(configs_dir, refer_root, split):
    root, _ = refer_root
    refs, instances, meta = _files(root)
    loader = 'val_dataloader' if split == 'val' else 'test_dataloader'
    ds = _build(configs_dir, root, loader, split=split)
    assert isinstance(ds, RRSISDDataset)
    expected = [(r['ref_id'], s['sent_id'], s['raw']) for r in refs
                if r['split'] == split for s in r['sentences']]
    assert len(ds) == len(expected) > 0
    cats = {c['id']: c['name'] for c in instances['categories']}
    anns = {a['id']: a for a in instances['annotations']}
    for i, (ref_id, sent_id, raw) in enumerate(expected):
        info = ds.get_data_info(i)
        assert (info['ref_id'], info['sent_id'], info['text']) == (ref_id,
                                                                   sent_id,
                                                                   raw)
        ann = anns[info['ann_id']]
        assert info['category'] == cats[ann['category_id']]
        assert info['category'] == meta[str(ref_id)]['category']
        assert info['seg_map_path'] is None
        assert info['segmentation'] == ann['segmentation']
        assert (info['height'], info['width']) == (64, 64)


def test_every_mask_decodes_exactly(configs_dir, refer_root):
    """Polygons, RLE strings, RLE lists and overlapping polygons alike."""
    root, _ = refer_root
    _, _, meta = _files(root)
    seen = set()
    for split in ('train', 'val', 'test'):
        ds = _build(configs_dir, root, 'test_dataloader', split=split)
        for i in range(len(ds)):
            out = ds[i]
            sample = out['data_samples']
            assert out['inputs'].shape == (3, 480, 480)
            gt = sample.gt_sem_seg.data[0].numpy()
            ref = meta[str(sample.ref_id)]
            expected = cv2.imread(
                osp.join(root, 'rrsisd', ref['mask_file']),
                cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(gt, expected)
            assert sample.text in ref['sentences']
            seen.add(ref['encoding'])
    assert seen == {'polygons', 'overlapping_polygons', 'rle',
                    'rle_uncompressed'}


def test_overlapping_polygons_are_united(configs_dir, refer_root):
    root, _ = refer_root
    _, _, meta = _files(root)
    ds = _build(configs_dir, root, 'train_dataloader', text_mode='all',
                split=['train', 'val', 'test'])
    found = [
        i for i in range(len(ds)) if meta[str(ds.get_data_info(i)['ref_id'])]
        ['encoding'] == 'overlapping_polygons'
    ]
    assert found
    i = found[0]
    info = ds.get_data_info(i)
    out = ds.pipeline.transforms[1](dict(ds.get_data_info(i)))
    rles = mask_utils.frPyObjects(info['segmentation'], 64, 64)
    summed = decode_rle(rles).sum(axis=2)
    assert (summed == 2).any()  # the parts overlap
    np.testing.assert_array_equal(out['gt_seg_map'], summed > 0)
    assert (out['gt_seg_map'] != (summed == 1)).any()


def test_random_mode_one_sample_per_ref(configs_dir, refer_root):
    root, _ = refer_root
    refs, _, _ = _files(root)
    ds = _build(configs_dir, root, 'train_dataloader')
    train = [r for r in refs if r['split'] == 'train']
    assert len(ds) == len(train)
    multi = next(i for i, r in enumerate(train) if len(r['sentences']) > 1)
    info = ds.get_data_info(multi)
    assert info['text'] is None and info['sent_id'] is None
    assert info['texts'] == [s['raw'] for s in train[multi]['sentences']]
    np.random.seed(0)
    picked = set()
    for _ in range(30):
        sample = ds[multi]['data_samples']
        assert sample.text in info['texts']
        assert sample.sent_id == info['sent_ids'][info['texts'].index(
            sample.text)]
        picked.add(sample.text)
    assert len(picked) == len(info['texts'])  # every sentence gets its turn


def test_refcoco_config_and_expression_categories(configs_dir, tmp_path):
    root = str(tmp_path)
    make_synthetic_refer(  # RefCOCO's layout and UNC splits by default
        root, num_images=3, size=32, seed=2, dataset='refcoco',
        show_progress=False)
    ds = _build(configs_dir, root, 'val_dataloader', name='refcoco.py')
    assert type(ds) is ReferDataset and len(ds) > 0
    assert ds[0]['data_samples'].gt_sem_seg.data.shape == (1, 32, 32)
    both = _build(
        configs_dir,
        root,
        'val_dataloader',
        name='refcoco.py',
        split=['train', 'val', 'testA'],
        category_names=['tree', 'car'])
    assert len(both) > len(ds)
    for i in range(len(both)):
        info = both.get_data_info(i)
        expected = 'tree' if 'tree' in info['text'] else (
            'car' if 'car' in info['text'].split() else None)
        assert info['category'] == expected


def test_ann_id_missing_from_instances(refer_root, tmp_path):
    root, _ = refer_root
    refs, _, _ = _files(root)
    refs = [dict(r) for r in refs]
    refs[1]['ann_id'] = 99999
    bad = tmp_path / 'refs(unc).p'
    bad.write_bytes(pickle.dumps(refs))
    with pytest.raises(ValueError, match='ann_id 99999') as e:
        RRSISDDataset(
            data_root=root, ann_file=str(bad), split=refs[1]['split'])
    assert f'ref_id {refs[1]["ref_id"]}' in str(e.value)
    assert 'instances.json' in str(e.value)


def test_unknown_split_and_missing_image(refer_root, tmp_path):
    root, _ = refer_root
    with pytest.raises(ValueError, match="splits are \\['test', 'train'"):
        RRSISDDataset(data_root=root, split='testA')
    with pytest.raises(FileNotFoundError, match='00001.jpg'):
        RRSISDDataset(
            data_root=root,
            split=['train', 'val', 'test'],
            data_prefix=dict(img_path=str(tmp_path)))
    with pytest.raises(ValueError, match='text_mode'):
        RRSISDDataset(data_root=root, text_mode='one')
