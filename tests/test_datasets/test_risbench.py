"""RISBench from a copy written in its published layout
(``published_formats.write_risbench``), built from
``configs/_base_/datasets/risbench.py``."""
import os.path as osp

import numpy as np
import published_formats as pf
import pytest
from mmengine import Config

from mmrrsis.datasets import RISBenchDataset
from mmrrsis.registry import DATASETS


def _build(configs_dir, loader, root, **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, 'risbench.py'))
    assert cfg.get('train_gsd') is None  # 0.1-30 m: no single GSD
    ds_cfg = cfg[loader]['dataset']
    # the evaluation pipeline: the mask at its original size
    ds_cfg.update(data_root=root, pipeline=cfg.test_pipeline, **overrides)
    return DATASETS.build(ds_cfg)


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_splits_texts_and_masks(configs_dir, risbench_copy, split):
    root, expected = risbench_copy
    ds = _build(configs_dir, f'{split}_dataloader', root)
    assert isinstance(ds, RISBenchDataset)
    lines = expected['splits'][split]
    assert len(ds) == len(lines)
    for i, (name, text) in enumerate(lines):
        info = ds.get_data_info(i)
        assert info['text'] == text and info['split'] == split
        assert info['ref_id'] == name[:-4]
        assert info['img_path'] == osp.join(root, 'img_rgb', name)
        assert info['seg_map_path'] == osp.join(root, 'mask', name)
        out = ds[i]
        gt = out['data_samples'].gt_sem_seg.data[0].numpy()
        # 0/1 and 0/255 files alike: the same {0, 1} target
        np.testing.assert_array_equal(gt, expected['masks'][name])
    if split == 'train':
        assert [ds.get_data_info(i)['category'] for i in range(3)] == [
            'ship', 'storage tank', 'vehicle']


def test_third_party_folder_names(tmp_path):
    root = str(tmp_path / 'risbench')
    expected = pf.write_risbench(root, folders=('images', 'masks'))
    ds = RISBenchDataset(data_root=root, ann_file='output_phrase_test.txt',
                         pipeline=[dict(type='LoadReferringAnnotations')])
    assert ds.get_data_info(0)['img_path'] == osp.join(
        root, 'images', 'test_5_2.png')
    for i, (name, _) in enumerate(expected['splits']['test']):
        np.testing.assert_array_equal(ds[i]['gt_seg_map'],
                                      expected['masks'][name])


def test_a_fixed_threshold_is_said_to_misread_01_masks(risbench_copy):
    """With RefSegRS' > 50 rule a 0/1 file would be empty: it raises,
    naming the file, instead of silently training on nothing."""
    root, _ = risbench_copy
    ds = RISBenchDataset(data_root=root, ann_file='output_phrase_train.txt',
                         mask_threshold=50,
                         pipeline=[dict(type='LoadReferringAnnotations')])
    ds[0]  # 0/255: fine
    with pytest.raises(ValueError, match='train_100_1.png.*0/1 mask'):
        ds[1]
