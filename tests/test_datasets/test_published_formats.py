"""The loaders on copies written in the datasets' published formats.

The copies come from ``published_formats.py`` (Python 2 refs pickles,
RRSIS-D's list-of-one str-counts RLE and ``categories_id``, its 801x800
JPEG with an 800x800 mask, RefCOCO polygons with testA/testB, RefSegRS
0/255 TIFFs with soft edges, LZW and raw, CRLF split files). Every dataset
is built from ``configs/_base_/datasets/*.py`` with ``data_root`` pointed at
a copy.
"""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import published_formats as pf
import pytest
import torch
from mmengine import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.evaluation import RRSISMetric
from mmrrsis.registry import DATASETS


def _build(configs_dir, name, loader, root, **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, name))
    ds_cfg = cfg[loader]['dataset']
    ds_cfg.update(data_root=root, **overrides)
    return DATASETS.build(ds_cfg)


def _gt(dataset, i):
    return dataset[i]['data_samples'].gt_sem_seg.data[0].numpy()


# -------------------------------------------------------------- RRSIS-D --


def test_rrsisd_splits_texts_and_categories(configs_dir, rrsisd_copy):
    root, expected = rrsisd_copy
    refs = expected['refs']
    with pytest.warns(UserWarning, match=r'1 sample\(s\) have an image'):
        train = _build(configs_dir, 'rrsisd.py', 'train_dataloader', root)
    train_refs = [r for r, e in refs.items() if e['split'] == 'train']
    assert len(train) == len(train_refs) == 3  # one sample a ref
    for i, ref_id in enumerate(train_refs):
        info = train.get_data_info(i)
        assert info['ref_id'] == ref_id and info['split'] == 'train'
        assert info['texts'] == refs[ref_id]['texts']  # UTF-8 'café' too
        assert info['sent_ids'] == refs[ref_id]['sent_ids']
        # from 'categories_id', the key public RRSIS-D scripts read
        assert info['category'] == refs[ref_id]['category']
        seg = info['segmentation']
        assert isinstance(seg, list) and len(seg) == 1
        assert isinstance(seg[0]['counts'], str)
    val = _build(configs_dir, 'rrsisd.py', 'val_dataloader', root)
    assert [val.get_data_info(i)['text'] for i in range(len(val))] == \
        refs[4]['texts']
    with pytest.warns(UserWarning, match=r'2 sample\(s\).*00005\.jpg is '
                      r'800x801 \(h x w\), its mask 800x800') as record:
        test = _build(configs_dir, 'rrsisd.py', 'test_dataloader', root)
    assert len(record) == 1  # one warning for the whole split
    assert len(test) == 4
    # ref 6's annotation has no category key: the ref's category_id
    assert test.get_data_info(3)['category'] == 'airplane'
    assert {test.get_data_info(i)['sent_id'] for i in range(4)} == set(
        refs[5]['sent_ids'] + refs[6]['sent_ids'])


def test_rrsisd_masks_on_the_mask_grid(configs_dir, rrsisd_copy):
    root, expected = rrsisd_copy
    with pytest.warns(UserWarning, match='resampled'):
        test = _build(configs_dir, 'rrsisd.py', 'test_dataloader', root)
    for i in range(len(test)):
        info = test.get_data_info(i)
        mask = expected['refs'][info['ref_id']]['mask']
        out = test[i]
        sample = out['data_samples']
        assert out['inputs'].shape == (3, 480, 480)
        np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                      mask)
        # what the prediction is resized to: the mask's grid
        assert sample.ori_shape == mask.shape
        assert sample.split == 'test'
    # training: the 801x800 image is put on the 800x800 grid, then resized
    with pytest.warns(UserWarning, match='resampled'):
        train = _build(configs_dir, 'rrsisd.py', 'train_dataloader', root)
    gt = _gt(train, 0)
    np.testing.assert_array_equal(
        gt, cv2.resize(expected['refs'][1]['mask'], (480, 480),
                       interpolation=cv2.INTER_NEAREST))


def test_rrsisd_size_mismatch_error_lists_the_samples(configs_dir,
                                                      rrsisd_copy):
    root, _ = rrsisd_copy
    with pytest.raises(ValueError, match="size_mismatch='error'") as e:
        _build(configs_dir, 'rrsisd.py', 'test_dataloader', root,
               size_mismatch='error')
    assert '00005.jpg is 800x801' in str(e.value)
    assert 'ref_id=6' in str(e.value)


def test_refer_api_logic_reads_the_copy(rrsisd_copy):
    """The fixture itself is what the refer API expects."""
    import json
    root, expected = rrsisd_copy
    instances = json.load(open(osp.join(root, 'rrsisd', 'instances.json')))
    for ann in instances['annotations']:
        seg = ann['segmentation']
        assert not isinstance(seg[0], list)  # getMask: "RLE" branch
        mask = expected['refs'][ann['id'] - 100]['mask']
        np.testing.assert_array_equal(
            pf.refer_api_mask(seg, *mask.shape), mask)


@pytest.mark.parametrize('encoding', ['utf-8', 'latin1'])
def test_python2_pickle_text(configs_dir, tmp_path, encoding):
    """Python 2 byte strings: UTF-8 first, latin1 as the fallback."""
    root = str(tmp_path)
    expected = pf.write_rrsisd(root, text_encoding=encoding)
    with pytest.warns(UserWarning):
        ds = _build(configs_dir, 'rrsisd.py', 'train_dataloader', root)
    assert ds.get_data_info(2)['texts'] == expected['refs'][3]['texts']
    assert ds.get_data_info(2)['texts'][2] == 'the caf\u00e9-coloured van'


# -------------------------------------------------------------- RefCOCO --


def test_refcoco_test_split_is_val_testA_testB(configs_dir, refcoco_copy):
    root, expected = refcoco_copy
    ds = _build(configs_dir, 'refcoco.py', 'test_dataloader', root)
    want = [(r, t, e['split']) for split in ('val', 'testA', 'testB')
            for r, e in expected['refs'].items() if e['split'] == split
            for t in e['texts']]
    got = [(i['ref_id'], i['text'], i['split'])
           for i in map(ds.get_data_info, range(len(ds)))]
    assert sorted(got) == sorted(want) and len(got) == 8
    assert {i[2] for i in got} == {'val', 'testA', 'testB'}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        ref = expected['refs'][info['ref_id']]
        assert info['category'] == ref['category']
        np.testing.assert_array_equal(
            _gt(ds, i), pf.union_mask(ref['polygons'], 64, 64))
    train = _build(configs_dir, 'refcoco.py', 'train_dataloader', root)
    assert len(train) == 2 and train.get_data_info(0)['split'] == 'train'


def test_refcoco_overlapping_polygons(configs_dir, refcoco_copy):
    root, expected = refcoco_copy
    ref = expected['refs'][expected['overlapping_ref']]
    union = pf.union_mask(ref['polygons'], 64, 64)
    refer = pf.refer_api_mask(ref['polygons'], 64, 64)
    assert (union != refer).sum() > 0  # the parts do overlap
    for overlap, mask in (('union', union), ('refer', refer)):
        ds = _build(configs_dir, 'refcoco.py', 'test_dataloader', root,
                    split='testA', polygon_overlap=overlap)
        index = next(i for i in range(len(ds)) if ds.get_data_info(i)
                     ['ref_id'] == expected['overlapping_ref'])
        np.testing.assert_array_equal(_gt(ds, index), mask)


def test_refcoco_scores_each_split_under_its_prefix(configs_dir,
                                                    refcoco_copy):
    """One evaluation over val + testA + testB reports each split apart."""
    root, _ = refcoco_copy
    cfg = Config.fromfile(osp.join(configs_dir, 'refcoco.py'))
    ds = _build(configs_dir, 'refcoco.py', 'test_dataloader', root)
    metric = RRSISMetric(**{k: v for k, v in cfg.test_evaluator.items()
                            if k != 'type'})
    samples = []
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        gt = sample.gt_sem_seg.data
        out = SegDataSample(metainfo=sample.metainfo)
        out.gt_sem_seg = PixelData(data=gt)
        perfect = sample.split != 'testB'  # testB predicted empty
        out.pred_sem_seg = PixelData(data=gt if perfect else
                                     torch.zeros_like(gt))
        samples.append(out.to_dict())
    metric.process({}, samples)
    scores = metric.compute_metrics(metric.results)
    assert scores['val/oIoU'] == scores['testA/oIoU'] == 100.0
    assert scores['testB/oIoU'] == 0.0 and scores['testB/mIoU'] == 0.0
    assert 'oIoU' not in scores  # no score over the splits together
    assert scores['testA/person_oIoU'] == 100.0


@pytest.mark.parametrize('name, dataset, split_by, rename, test_splits', [
    ('refcoco+.py', 'refcoco+', 'unc', None, {'val', 'testA', 'testB'}),
    ('refcocog.py', 'refcocog', 'umd', dict(testA='test', testB='test'),
     {'val', 'test'}),
])
def test_refcoco_plus_and_g_configs(configs_dir, tmp_path, name, dataset,
                                    split_by, rename, test_splits):
    root = str(tmp_path)
    pf.write_refcoco(root, dataset=dataset, split_by=split_by, rename=rename)
    ds = _build(configs_dir, name, 'test_dataloader', root)
    assert {ds.get_data_info(i)['split'] for i in range(len(ds))} == \
        test_splits
    assert len(ds) == 8
    assert len(_build(configs_dir, name, 'val_dataloader', root)) == 2


def test_a_requested_split_without_refs_is_an_error(configs_dir,
                                                    refcoco_copy):
    root, _ = refcoco_copy
    with pytest.raises(ValueError, match=r"No ref of split \['test'\]"):
        _build(configs_dir, 'refcoco.py', 'test_dataloader', root,
               split=['val', 'test'])


# ------------------------------------------------------------- RefSegRS --


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_refsegrs_copy(configs_dir, refsegrs_copy, split):
    root, expected = refsegrs_copy
    loader = f'{split}_dataloader'
    cfg = Config.fromfile(osp.join(configs_dir, 'refsegrs.py'))
    ds = _build(configs_dir, 'refsegrs.py', loader, root,
                pipeline=cfg.test_pipeline)  # masks at the stored size
    lines = expected['splits'][split]
    assert len(ds) == len(lines)
    categories = dict(train=['car', 'building', 'low vegetation'],
                      val=['truck'], test=['road marking', 'tree'])[split]
    for i, (sample_id, text) in enumerate(lines):
        info = ds.get_data_info(i)
        assert (info['ref_id'], info['text']) == (sample_id, text)  # no \r
        assert info['category'] == categories[i]
        assert info['split'] == split and info['mask_threshold'] == 50
        # the authors' > 50 on a soft-edged 0/255 mask, LZW or raw
        np.testing.assert_array_equal(_gt(ds, i), expected['masks'][
            sample_id])
        stored = expected['stored'][sample_id]
        assert ((stored > 0) != (stored > 50)).any()  # > 0 would differ


def _refsegrs_with_lines(root, data: bytes, name='output_phrase_train.txt'):
    with open(osp.join(root, name), 'wb') as f:
        f.write(data)


def test_refsegrs_split_file_encodings(refsegrs_copy, tmp_path):
    from mmrrsis.datasets import RefSegRSDataset
    src, _ = refsegrs_copy
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    _refsegrs_with_lines(root, '\ufeff0 car on the road\n1 a caf\u00e9\n'
                         .encode('utf-8'))
    ds = RefSegRSDataset(data_root=root)
    assert ds.get_data_info(0)['ref_id'] == '0'  # not '\ufeff0'
    assert ds.get_data_info(1)['text'] == 'a caf\u00e9'
    _refsegrs_with_lines(root, '0 car\n1 a caf\u00e9\n'.encode('latin1'))
    with pytest.raises(ValueError, match='not UTF-8 text: line 2') as e:
        RefSegRSDataset(data_root=root)
    assert 'output_phrase_train.txt' in str(e.value)
    _refsegrs_with_lines(root, '0 car\n'.encode('utf-16'))
    with pytest.raises(ValueError, match='not UTF-8 text: line 1'):
        RefSegRSDataset(data_root=root)


def test_refsegrs_duplicate_lines(refsegrs_copy, tmp_path):
    from mmrrsis.datasets import RefSegRSDataset
    src, _ = refsegrs_copy
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    _refsegrs_with_lines(root, b'0 car\r\n1 tree\r\n0 car\r\n0  car \r\n')
    with pytest.warns(UserWarning, match=r'2 line\(s\) repeat.*lines '
                      r'1/3/4.*kept') as record:
        kept = RefSegRSDataset(data_root=root)
    repeats = [w for w in record if 'repeat' in str(w.message)]
    assert len(repeats) == 1 and len(kept) == 4  # + one soft-edge warning
    with pytest.warns(UserWarning, match='dropped'):
        dropped = RefSegRSDataset(data_root=root, duplicate_lines='drop')
    assert [dropped.get_data_info(i)['ref_id'] for i in range(2)] == ['0',
                                                                      '1']
    assert len(dropped) == 2
    with pytest.raises(ValueError, match='duplicate_lines'):
        RefSegRSDataset(data_root=root, duplicate_lines='merge')


def test_refsegrs_mask_directory_and_empty_image(refsegrs_copy, tmp_path):
    from mmrrsis.datasets import RefSegRSDataset
    src, _ = refsegrs_copy
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    mask = osp.join(root, 'masks', '1.tif')
    os.remove(mask)
    os.makedirs(mask)
    with pytest.raises(IsADirectoryError, match='is a directory') as e:
        RefSegRSDataset(data_root=root)
    assert mask in str(e.value) and 'output_phrase_train.txt:2' in str(
        e.value)
