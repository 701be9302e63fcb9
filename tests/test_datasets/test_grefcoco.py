"""gRefCOCO from a copy in ReLA's layout (``published_formats.
write_grefcoco``), built from ``configs/_base_/datasets/grefcoco.py``."""
import os.path as osp

import numpy as np
import pytest
from mmengine import Config
from mmengine.evaluator import Evaluator

from mmrrsis.datasets import GRefCOCODataset
from mmrrsis.registry import DATASETS


def _build(configs_dir, root, split, **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, 'grefcoco.py'))
    ds_cfg = cfg.val_dataloader.dataset
    ds_cfg.update(data_root=root, split=split, pipeline=cfg.test_pipeline,
                  **overrides)
    return DATASETS.build(ds_cfg), cfg


@pytest.mark.parametrize('split,refs', [('train', [10]), ('val', [11, 12]),
                                        ('testA', [13]), ('testB', [14])])
def test_targets_texts_and_split_sizes(configs_dir, grefcoco_copy, split,
                                       refs):
    root, expected = grefcoco_copy
    ds, _ = _build(configs_dir, root, split)
    assert isinstance(ds, GRefCOCODataset)
    texts = [t for r in refs for t in expected['refs'][r]['texts']]
    assert len(ds) == len(texts)  # one sample a sentence
    i = 0
    for ref_id in refs:
        exp = expected['refs'][ref_id]
        for text in exp['texts']:
            info = ds.get_data_info(i)
            assert (info['ref_id'], info['text']) == (ref_id, text)
            assert info['no_target'] == exp['no_target']
            out = ds[i]
            sample = out['data_samples']
            np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                          exp['mask'])
            assert sample.no_target == exp['no_target']
            i += 1


def test_multi_target_leaves_crowd_out_and_no_target_is_empty(
        configs_dir, grefcoco_copy):
    root, expected = grefcoco_copy
    ds, _ = _build(configs_dir, root, 'val')
    multi = ds.get_data_info(0)
    assert multi['ann_id'] == [2, 3, 4] and len(multi['segmentations']) == 2
    assert multi['category'] == 'person'
    none = ds.get_data_info(1)
    assert none['ann_id'] == [-1] and none['segmentations'] == []
    assert none['category'] is None
    assert expected['refs'][12]['mask'].sum() == 0


def test_gres_evaluator_of_the_config(configs_dir, grefcoco_copy):
    """Ground truth as prediction: every score is perfect; an empty
    prediction everywhere finds the no-target samples only."""
    import copy
    root, _ = grefcoco_copy
    ds, cfg = _build(configs_dir, root, 'val')
    assert cfg.val_evaluator == dict(type='RRSISMetric', gres=True)
    samples = []
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        sample.pred_sem_seg = copy.deepcopy(sample.gt_sem_seg)
        samples.append(sample)
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.process(samples)
    res = evaluator.evaluate(len(samples))
    assert res['gIoU'] == res['cIoU'] == 100.0
    assert res['N-acc'] == res['T-acc'] == 100.0
    assert (res['nt_TP'], res['nt_TN']) == (2, 1)
    for sample in samples:
        sample.pred_sem_seg.data.zero_()
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.process(samples)
    res = evaluator.evaluate(len(samples))
    assert res['N-acc'] == 100.0 and res['T-acc'] == 0.0
    assert res['gIoU'] == pytest.approx(200 / 3, abs=0.01)  # 2 of 3


def test_unknown_annotation_is_named(tmp_path, grefcoco_copy):
    import json
    import shutil
    root, _ = grefcoco_copy
    copy = str(tmp_path / 'copy')
    shutil.copytree(root, copy)
    path = osp.join(copy, 'grefcoco', 'grefs(unc).json')
    refs = json.load(open(path))
    refs[0]['ann_id'] = [1, 99]
    json.dump(refs, open(path, 'w'))
    with pytest.raises(ValueError, match=r'ann_id \[99\] of ref_id 10'):
        GRefCOCODataset(data_root=copy, split='train', pipeline=[])


def test_generalized_synthetic_config_reads_the_real_format(configs_dir,
                                                            grefcoco_copy):
    """synthetic_grefcoco.py's dataset generates only when the files are
    missing: on a copy in ReLA's format it reads that copy."""
    root, expected = grefcoco_copy
    cfg = Config.fromfile(osp.join(configs_dir, 'synthetic_grefcoco.py'))
    assert cfg.val_evaluator.gres
    ds_cfg = cfg.val_dataloader.dataset
    assert ds_cfg.type == 'SyntheticGRefCOCODataset'
    ds_cfg.update(data_root=root, pipeline=cfg.test_pipeline)
    ds = DATASETS.build(ds_cfg)
    assert [ds.get_data_info(i)['ref_id'] for i in range(len(ds))] == [
        11, 12, 12]
    for i in range(len(ds)):
        exp = expected['refs'][ds.get_data_info(i)['ref_id']]
        np.testing.assert_array_equal(
            ds[i]['data_samples'].gt_sem_seg.data[0].numpy(), exp['mask'])
    test_cfg = dict(cfg.test_dataloader.dataset, data_root=root,
                    pipeline=cfg.test_pipeline)
    test = DATASETS.build(test_cfg)  # testA + testB
    assert {test.get_data_info(i)['split'] for i in range(len(test))} == {
        'testA', 'testB'}
