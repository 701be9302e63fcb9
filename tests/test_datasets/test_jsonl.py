"""The datainfo JSON lines (RSRefSeg2's converters, DiCoR's loader), from
copies written the converters' way (``published_formats.write_*_jsonl``),
built from ``configs/_base_/datasets/<dataset>_jsonl.py``."""
import json
import os
import os.path as osp
import shutil
import warnings

import numpy as np
import pytest
from mmengine import Config

from mmrrsis.datasets import JSONLReferringDataset
from mmrrsis.datasets.jsonl import DICOR_EXCLUDED
from mmrrsis.registry import DATASETS


def _build(configs_dir, name, split, root, **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, f'{name}_jsonl.py'))
    ds_cfg = cfg[f'{split}_dataloader']['dataset']
    assert ds_cfg['type'] == 'JSONLReferringDataset'
    # the evaluation pipeline: masks at their stored size
    ds_cfg.update(data_root=root, pipeline=cfg.test_pipeline, **overrides)
    return DATASETS.build(ds_cfg)


def _dicor_reads(path, excluded=DICOR_EXCLUDED):
    """What DiCoR's data/refdataset.py keeps of a file: the non-blank
    lines in order, minus its excluded files, the mask ``decode(rle) ==
    1`` of the first RLE of a list (pycocotools, as it does)."""
    import pycocotools.mask as mask_utils
    items = []
    for line in open(path, encoding='utf-8'):
        if not line.strip():
            continue
        item = json.loads(line)
        if item['file_name'] in excluded:
            continue
        rle = item['segmentation']
        rle = rle[0] if isinstance(rle, list) else rle
        rle = dict(rle, counts=rle['counts'].encode())
        with warnings.catch_warnings():  # numpy 2 note of pycocotools
            warnings.simplefilter('ignore', DeprecationWarning)
            mask = mask_utils.decode(rle)
        items.append((item['file_name'], item['sent'],
                      (mask == 1).astype(np.uint8)))
    return items


@pytest.mark.parametrize('name', ['refsegrs', 'rrsisd', 'risbench'])
@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_same_samples_and_masks_as_dicor(configs_dir, jsonl_copies, name,
                                         split):
    root, _ = jsonl_copies[name]
    ds = _build(configs_dir, name, split, root)
    path = osp.join(root, 'datainfo', f'{name}_{split}.jsonl')
    dicor = _dicor_reads(path, excluded=())
    assert len(ds) == len(dicor)
    for i, (file_name, sent, mask) in enumerate(dicor):
        info = ds.get_data_info(i)
        assert osp.basename(info['img_path']) == file_name
        assert info['text'] == sent and info['split'] == split
        assert info['sent_id'] == i
        gt = ds[i]['data_samples'].gt_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(gt, mask)


def test_exact_texts_masks_and_split_sizes(configs_dir, jsonl_copies):
    root, expected = jsonl_copies['rrsisd']
    sizes = {}
    for split, lines in expected['splits'].items():
        ds = _build(configs_dir, 'rrsisd', split, root)
        sizes[split] = len(ds)
        for i, (name, text, category) in enumerate(lines):
            info = ds.get_data_info(i)
            assert info['img_path'] == osp.join(
                root, 'images', 'rrsisd', 'JPEGImages', name)
            assert (info['text'], info['category']) == (text, category)
            assert info['ref_id'] == str(int(name[:5]))  # ann_id
            np.testing.assert_array_equal(
                ds[i]['data_samples'].gt_sem_seg.data[0].numpy(),
                expected['masks'][name])
    assert sizes == dict(train=2, val=1, test=2)
    # DiCoR leaves 00413.jpg out of every split
    ds = _build(configs_dir, 'rrsisd', 'train', root, exclude_files='dicor')
    assert len(ds) == 1 and ds.excluded == 1
    assert ds.get_data_info(0)['img_path'].endswith('00500.jpg')

    root, expected = jsonl_copies['risbench']
    for split, lines in expected['splits'].items():
        ds = _build(configs_dir, 'risbench', split, root)
        assert [ds.get_data_info(i)['text'] for i in range(len(ds))] == [
            t for _, t in lines]
        for i, (name, _) in enumerate(lines):
            assert ds.get_data_info(i)['img_path'] == osp.join(
                root, 'img_rgb', name)
            # 0/1 and 0/255 files encode to the same RLE
            np.testing.assert_array_equal(
                ds[i]['data_samples'].gt_sem_seg.data[0].numpy(),
                expected['masks'][name])


def test_refsegrs_lines_and_the_converters_soft_edge_stripes(
        configs_dir, jsonl_copies):
    """A blank line is skipped (as DiCoR does). The converter encodes the
    stored values: the soft edge (30, 128, 220 around 255) starts a run
    at every change, so the RLE decodes to stripes, not to the > 50 mask;
    the loader reads what the file holds (DiCoR's masks)."""
    root, expected = jsonl_copies['refsegrs']
    train = _build(configs_dir, 'refsegrs', 'train', root)
    assert [train.get_data_info(i)['ref_id'] for i in range(3)] == [
        '0', '1', '2']
    assert [train.get_data_info(i)['source'].rsplit(':', 1)[1]
            for i in range(3)] == ['1', '3', '4']  # line 2 is blank
    assert train.get_data_info(0)['category'] == 'car'
    gt = train[0]['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, expected['masks']['0'])
    stored = expected['stored']['0']
    assert not np.array_equal(gt, (stored > 50).astype(np.uint8))
    # inside the target whole columns flip to background: stripes
    assert (gt[stored == 255] == 0).sum() > (stored == 255).sum() // 4


def test_default_file_and_errors(tmp_path, jsonl_copies):
    root, _ = jsonl_copies['risbench']
    copy = str(tmp_path / 'copy')
    shutil.copytree(root, copy)
    ds = JSONLReferringDataset(dataset='risbench', split='val',
                               data_root=copy, pipeline=[])
    assert ds.ann_file == osp.join(copy, 'datainfo', 'risbench_val.jsonl')
    with pytest.raises(ValueError, match="dataset must be one of"):
        JSONLReferringDataset(dataset='refcoco', data_root=copy)
    bad = osp.join(copy, 'datainfo', 'risbench_test.jsonl')
    with open(bad, 'a') as f:
        f.write('{"split": "test", "sent": "no file"}\n{not json\n')
    with pytest.raises(ValueError, match=r"line 3 has no \['file_name', "
                       r"'segmentation'\]"):
        JSONLReferringDataset(dataset='risbench', split='test',
                              data_root=copy, pipeline=[])
    os.remove(osp.join(copy, 'img_rgb', 'train_14700_0.png'))
    with pytest.raises(FileNotFoundError,
                       match='train_14700_0.png.*risbench_val.jsonl:1'):
        JSONLReferringDataset(dataset='risbench', split='val',
                              data_root=copy, pipeline=[])
    with pytest.raises(FileNotFoundError, match='JSON lines file not found'):
        JSONLReferringDataset(dataset='rrsisd', split='val', data_root=copy)


@pytest.mark.parametrize('name', ['rrsisd', 'risbench'])
def test_dicor_stage_configs_read_what_dicor_reads(jsonl_copies, name):
    """DiCoR's RRSIS-D / RISBench stage configs read every split as its
    loader does (its excluded files left out), and their training set is
    one the prompt bank can be built from (no random step)."""
    from mmrrsis.apis.prompt_bank import training_dataset_cfg
    root, _ = jsonl_copies[name]
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(repo, 'configs', 'dicor',
                 f'dicor-coarse_swin-b_1xb8-40e_{name}-480x480.py'))
    assert training_dataset_cfg(cfg)['exclude_files'] == 'dicor'
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader']['dataset']
        ds_cfg.update(data_root=root, pipeline=cfg.test_pipeline)
        ds = DATASETS.build(ds_cfg)
        dicor = _dicor_reads(
            osp.join(root, 'datainfo', f'{name}_{split}.jsonl'))
        assert len(ds) == len(dicor)
        if (name, split) == ('rrsisd', 'train'):
            assert ds.excluded == 1  # the copy holds one of DiCoR's 27
        for i, (file_name, sent, mask) in enumerate(dicor):
            assert osp.basename(ds.get_data_info(i)['img_path']) == file_name
            assert ds.get_data_info(i)['text'] == sent
            gt = ds[i]['data_samples'].gt_sem_seg.data[0].numpy()
            np.testing.assert_array_equal(gt, mask)
