"""RefSegRSDataset on generated folders, through the configs' pipelines."""
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmengine import Config
from mmseg.structures import SegDataSample

from mmrrsis.datasets import RefSegRSDataset, SyntheticRefSegRSDataset
from mmrrsis.datasets.synthetic import (
    generate_scene,
    make_synthetic_refsegrs,
)
from mmrrsis.registry import DATASETS

PACKED_KEYS = {
    'img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
    'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label', 'text',
    'ref_id', 'sent_id', 'category'
}


def _read_split(root, split):
    with open(osp.join(root, f'output_phrase_{split}.txt')) as f:
        return [line.rstrip('\n').split(' ', 1) for line in f if line.strip()]


def _build(configs_dir, root, loader='train_dataloader', **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, 'refsegrs.py'))
    ds_cfg = cfg[loader]['dataset']
    ds_cfg.update(data_root=root, **overrides)
    return DATASETS.build(ds_cfg)


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_split_sizes_and_data_infos(configs_dir, refsegrs_root, split):
    root, summary = refsegrs_root
    lines = _read_split(root, split)
    loader = 'train_dataloader' if split == 'train' else f'{split}_dataloader'
    ds = _build(configs_dir, root, loader)
    assert len(ds) == len(lines) == summary['splits'][split] > 0
    assert ds.metainfo['classes'] == ('background', 'target')
    meta = json.load(open(osp.join(root, 'synthetic_meta.json')))['samples']
    for i, (sample_id, text) in enumerate(lines):
        info = ds.get_data_info(i)
        assert info['ref_id'] == sample_id
        assert info['sent_id'] == i
        assert info['text'] == text
        assert info['category'] == meta[sample_id]['category']
        assert info['img_path'] == osp.join(root, 'images', sample_id + '.tif')
        assert info['seg_map_path'] == osp.join(root, 'masks',
                                                sample_id + '.tif')
        assert info['seg_fields'] == [] and info['reduce_zero_label'] is False
        assert info['source'].endswith(f'output_phrase_{split}.txt:{i + 1}')


def test_train_pipeline_packs_aligned_sample(configs_dir, refsegrs_root):
    root, _ = refsegrs_root
    ds = _build(configs_dir, root)
    meta = json.load(open(osp.join(root, 'synthetic_meta.json')))['samples']
    for idx in range(len(ds)):
        out = ds[idx]
        inputs, sample = out['inputs'], out['data_samples']
        assert isinstance(sample, SegDataSample)
        assert inputs.shape == (3, 480, 480) and inputs.dtype == torch.uint8
        gt = sample.gt_sem_seg.data
        assert gt.shape == (1, 480, 480) and gt.dtype == torch.int64
        assert set(gt.unique().tolist()) <= {0, 1}
        assert gt.sum() > 0  # every generated expression has a target
        assert PACKED_KEYS <= set(sample.metainfo)
        info = ds.get_data_info(idx)
        assert sample.text == info['text'] and sample.ref_id == info['ref_id']
        assert sample.category == info['category']
        assert sample.ori_shape == (64, 64)
        assert sample.img_shape == (480, 480)
        assert sample.flip is False
        # the mask is the stored one, resized nearest, and the image the
        # stored one, resized bilinear
        stored = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
        assert set(np.unique(stored)) <= {0, 255}
        expected = cv2.resize((stored > 0).astype(np.uint8), (480, 480),
                              interpolation=cv2.INTER_NEAREST)
        np.testing.assert_array_equal(gt[0].numpy(), expected)
        image = cv2.resize(cv2.imread(info['img_path']), (480, 480))
        diff = np.abs(inputs.permute(1, 2, 0).numpy().astype(int) - image)
        assert diff.max() <= 1
        # the target is a union of whole objects of the generated scene
        scene = generate_scene(
            64, np.random.default_rng([3, meta[info['ref_id']]['image']]))
        np.testing.assert_array_equal(
            cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR),
            cv2.imread(info['img_path']))
        inst = scene.instance_map
        for obj_id in np.unique(inst):
            values = np.unique(stored[inst == obj_id])
            assert len(values) == 1, 'mask cuts through an object'


def test_test_pipeline_keeps_original_mask(configs_dir, refsegrs_root):
    root, _ = refsegrs_root
    ds = _build(configs_dir, root, 'test_dataloader')
    out = ds[0]
    assert out['inputs'].shape == (3, 480, 480)
    gt = out['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 64, 64)
    stored = cv2.imread(ds.get_data_info(0)['seg_map_path'],
                        cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(gt[0].numpy(), (stored > 0).astype(int))


def _copy_layout(src, dst, lines, split='train'):
    """A RefSegRS folder holding some files of ``src`` and given lines."""
    os.makedirs(osp.join(dst, 'images'), exist_ok=True)
    os.makedirs(osp.join(dst, 'masks'), exist_ok=True)
    for name in ('0', '1'):
        for sub in ('images', 'masks'):
            shutil.copy(
                osp.join(src, sub, name + '.tif'),
                osp.join(dst, sub, name + '.tif'))
    with open(osp.join(dst, f'output_phrase_{split}.txt'), 'w') as f:
        f.write(lines)
    return dst


def _dataset(root, **kwargs):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadReferringAnnotations'),
        dict(type='CleanText'),
        dict(type='PackRRSISInputs')
    ]
    return RefSegRSDataset(
        data_root=root,
        ann_file='output_phrase_train.txt',
        pipeline=pipeline,
        **kwargs)


def test_expression_whitespace_and_blank_lines(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path),
                        '0   long\ttruck  \n\n  \n1 car on the road\r\n')
    ds = _dataset(root)
    assert len(ds) == 2
    assert ds.get_data_info(0)['text'] == 'long truck'
    assert ds.get_data_info(0)['category'] == 'truck'
    assert ds.get_data_info(1)['text'] == 'car on the road'
    assert ds.get_data_info(1)['source'].endswith(':4')
    assert ds[1]['data_samples'].text == 'car on the road'


def test_mask_rule_is_the_authors_gt_50(refsegrs_root, tmp_path):
    """RefSegRS masks are read with the authors' ``> 50``; a mask that rule
    would read wrongly raises naming the file, or is read leniently."""
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n')
    path = osp.join(root, 'masks', '0.tif')
    mask255 = cv2.imread(path, 0)
    ds = _dataset(root)
    assert ds.get_data_info(0)['mask_threshold'] == 50
    gt255 = ds[0]['data_samples'].gt_sem_seg.data
    assert gt255.sum() == (mask255 > 0).sum() > 0
    # a 0/1 mask: "> 50" would make it empty, so it is refused ...
    cv2.imwrite(path, (mask255 > 0).astype(np.uint8))
    with pytest.raises(ValueError, match='0/1 mask') as e:
        _dataset(root)[0]
    assert path in str(e.value) and '1 (' in str(e.value)
    # ... or read as 0/1 with a warning under the lenient option
    lenient = _dataset(root, mask_check='lenient')
    with pytest.warns(UserWarning, match='1 mask.*read leniently'):
        gt01 = lenient[0]['data_samples'].gt_sem_seg.data
    assert torch.equal(gt01, gt255)
    # a background of 30 is no 0/255 mask: strict refuses, lenient reads it
    # with the rule (30 is not above 50)
    cv2.imwrite(path, np.where(mask255 > 0, 255, 30).astype(np.uint8))
    with pytest.raises(ValueError, match='no background value 0'):
        _dataset(root)[0]
    with pytest.warns(UserWarning, match='read leniently'):
        noisy = _dataset(root, mask_check='lenient')[0]
    assert torch.equal(noisy['data_samples'].gt_sem_seg.data, gt255)
    # another threshold for another copy of the data
    cv2.imwrite(path, (mask255 > 0).astype(np.uint8))
    assert torch.equal(
        _dataset(root, mask_threshold=0)[0]['data_samples'].gt_sem_seg.data,
        gt255)


# ------------------------------------------------------------ bad input --


def test_missing_image_names_path_and_line(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n1 tree\n')
    os.remove(osp.join(root, 'images', '1.tif'))
    with pytest.raises(FileNotFoundError) as e:
        _dataset(root)
    msg = str(e.value)
    assert osp.join(root, 'images', '1.tif') in msg
    assert 'output_phrase_train.txt:2' in msg


def test_missing_mask_names_path_and_line(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n1 tree\n')
    os.remove(osp.join(root, 'masks', '0.tif'))
    with pytest.raises(FileNotFoundError, match='Mask not found') as e:
        _dataset(root)
    assert osp.join(root, 'masks', '0.tif') in str(e.value)
    assert 'output_phrase_train.txt:1' in str(e.value)


def test_line_without_expression(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n1   \n')
    with pytest.raises(ValueError, match='line 2') as e:
        _dataset(root)
    assert 'output_phrase_train.txt' in str(e.value)
    assert 'no expression' in str(e.value)


def test_id_without_files(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n77 tree\n')
    with pytest.raises(FileNotFoundError, match="id '77'.*no files"):
        _dataset(root)


def test_empty_expression_names_sample(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    # a zero-width space is no whitespace for the split file, but no word
    root = _copy_layout(src, str(tmp_path), '0 car\n1 \u200b\n')
    ds = _dataset(root)
    assert len(ds) == 2
    with pytest.raises(ValueError, match='Empty referring expression') as e:
        ds[1]
    assert "ref_id='1'" in str(e.value)
    assert 'output_phrase_train.txt:2' in str(e.value)


def test_image_and_mask_of_different_sizes(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n1 tree\n')
    mask = cv2.imread(osp.join(root, 'masks', '0.tif'), 0)
    small = cv2.resize(mask, (32, 48), interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(osp.join(root, 'masks', '0.tif'), small)
    # strict: the build fails, naming the sample and both sizes
    with pytest.raises(ValueError, match='1 sample') as e:
        _dataset(root, size_mismatch='error')
    assert '64x64' in str(e.value) and '48x32' in str(e.value)
    assert 'output_phrase_train.txt:1' in str(e.value)
    # default: one warning at build, the image is put on the mask's grid
    with pytest.warns(UserWarning, match='1 sample.*resampled') as record:
        ds = _dataset(root)
    assert len(record) == 1
    out = ds[0]
    assert out['inputs'].shape == (3, 48, 32)
    assert out['data_samples'].ori_shape == (48, 32)
    np.testing.assert_array_equal(out['data_samples'].gt_sem_seg.data[0],
                                  small > 50)
    assert ds[1]['inputs'].shape == (3, 64, 64)


def test_corrupt_mask_tiff(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n')
    path = osp.join(root, 'masks', '0.tif')
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:  # truncated: header kept, directory lost
        f.write(data[:len(data) // 3])
    with pytest.raises(ValueError, match='Mask file cannot be read') as e:
        _dataset(root)  # found when the dataset is built
    assert path in str(e.value)
    assert 'output_phrase_train.txt:1' in str(e.value)
    ds = _dataset(root, check_files=False)
    with pytest.raises(ValueError, match='Cannot decode mask file') as e:
        ds[0]
    assert path in str(e.value)


@pytest.mark.parametrize('damage', ['header_only', 'empty', 'directory'])
def test_bad_image_found_when_built(refsegrs_root, tmp_path, damage):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n')
    path = osp.join(root, 'images', '0.tif')
    os.remove(path)
    if damage == 'directory':
        os.makedirs(path)
        error, words = IsADirectoryError, 'is a directory'
    else:
        with open(path, 'wb') as f:  # a TIFF header and nothing else
            f.write(b'II*\x00' + b'\x00' * 64 if damage == 'header_only'
                    else b'')
        error = ValueError
        words = 'cannot be read' if damage == 'header_only' else '0 bytes'
    with pytest.raises(error, match=words) as e:
        _dataset(root)
    assert path in str(e.value)
    assert 'output_phrase_train.txt:1' in str(e.value)


def test_corrupt_image_at_load_names_the_line(refsegrs_root, tmp_path):
    src, _ = refsegrs_root
    root = _copy_layout(src, str(tmp_path), '0 car\n')
    path = osp.join(root, 'images', '0.tif')
    with open(path, 'wb') as f:
        f.write(b'II*\x00' + b'\x00' * 64)
    with pytest.raises(Exception) as e:
        _dataset(root, check_files=False)[0]
    assert path in str(e.value)
    notes = ' '.join(getattr(e.value, '__notes__', []))
    assert 'output_phrase_train.txt:1' in notes


def test_missing_split_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='split file not found'):
        RefSegRSDataset(data_root=str(tmp_path))


def test_synthetic_dataset_generates_when_missing(tmp_path):
    root = str(tmp_path / 'gen')
    ds = SyntheticRefSegRSDataset(
        data_root=root, num_images=3, size=32, seed=5,
        ann_file='output_phrase_val.txt')
    assert len(ds) > 0
    assert osp.isfile(osp.join(root, 'output_phrase_train.txt'))
    assert not [p for p in os.listdir(tmp_path) if '.tmp-' in p]
    before = os.path.getmtime(osp.join(root, 'output_phrase_train.txt'))
    again = SyntheticRefSegRSDataset(
        data_root=root, num_images=50, size=32, seed=5,
        ann_file='output_phrase_val.txt')
    assert len(again) == len(ds)  # reused, not regenerated
    assert os.path.getmtime(osp.join(root,
                                     'output_phrase_train.txt')) == before
    assert SyntheticRefSegRSDataset.generates_missing_data is True
    assert 'make_synthetic_refsegrs' in RefSegRSDataset.DATA_HINT


# ------------------------------------------- generated once, rank 0 only --


def _ann(root):
    return osp.join(root, 'output_phrase_val.txt')


def _synthetic(root):
    return SyntheticRefSegRSDataset(
        data_root=root, num_images=3, size=32, seed=5,
        ann_file='output_phrase_val.txt')


def test_synthetic_other_ranks_wait_for_rank_0(tmp_path, monkeypatch):
    import mmrrsis.datasets.generated as module
    root = str(tmp_path / 'gen')
    events = []

    def rank0_meanwhile():  # rank 0 writes the set while rank 1 waits
        events.append('barrier')
        make_synthetic_refsegrs(root, 3, size=32, seed=5,
                                show_progress=False)

    monkeypatch.setattr(module, 'get_dist_info', lambda: (1, 2))
    monkeypatch.setattr(module, 'barrier', rank0_meanwhile)
    monkeypatch.setattr(SyntheticRefSegRSDataset, '_generate',
                        lambda self: events.append('generated'))
    ds = _synthetic(root)
    assert events == ['barrier'] and len(ds) > 0


def test_synthetic_rank_0_generates_before_the_barrier(tmp_path,
                                                       monkeypatch):
    import mmrrsis.datasets.generated as module
    roots = [str(tmp_path / 'gen')]
    seen = []
    monkeypatch.setattr(module, 'get_dist_info', lambda: (0, 2))
    monkeypatch.setattr(module, 'barrier',
                        lambda: seen.append(osp.isfile(_ann(roots[-1]))))
    root = roots[0]
    assert len(_synthetic(root)) > 0
    assert seen == [True]  # the set was complete when the others went on
    _synthetic(root)  # an existing set: no generation, but the barrier
    assert seen == [True, True]
    # a failure on rank 0 still releases the others, then raises
    bad = str(tmp_path / 'not_empty')
    roots.append(bad)
    os.makedirs(bad)
    open(osp.join(bad, 'other.txt'), 'w').close()
    with pytest.raises(FileNotFoundError, match='not empty'):
        _synthetic(bad)
    assert seen == [True, True, False]


def _gloo_worker(rank, root, init_file, log):
    import torch.distributed as dist

    import mmrrsis.datasets.synthetic as synthetic
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    original = synthetic.make_synthetic_refsegrs

    def logged(*args, **kwargs):
        with open(log, 'a') as f:
            f.write(f'{rank}\n')
        return original(*args, **kwargs)

    synthetic.make_synthetic_refsegrs = logged
    ds = _synthetic(root)
    with open(log + f'.{rank}', 'w') as f:
        f.write(str(len(ds)))
    dist.destroy_process_group()


def test_synthetic_generated_once_in_a_two_process_gloo_run(tmp_path):
    import torch.multiprocessing as mp
    root, log = str(tmp_path / 'gen'), str(tmp_path / 'log')
    mp.start_processes(_gloo_worker,
                       args=(root, str(tmp_path / 'init'), log),
                       nprocs=2, start_method='fork')
    assert open(log).read().split() == ['0']  # rank 0 only, once
    sizes = {open(log + f'.{r}').read() for r in (0, 1)}
    assert len(sizes) == 1 and int(sizes.pop()) > 0


def test_uint16_tiles_raise_naming_the_file_until_scaled(
        configs_dir, refsegrs_uint16_copy):
    """A RefSegRS copy whose tiles are uint16 blue, green, red, NIR
    GeoTIFFs: the base config's pipeline refuses them naming the file, and
    loads them with bands and scaling set by --cfg-options, giving the
    samples of the 8-bit copy."""
    import argparse

    from mmengine.config import DictAction

    from mmrrsis.datasets.band_scaling import BandScalingError
    rgb_root, u16_root, back = refsegrs_uint16_copy
    with pytest.raises(BandScalingError) as info:
        _build(configs_dir, u16_root)[0]
    msg = str(info.value)
    assert osp.join(u16_root, 'images', '0.tif') in msg
    assert 'uint16 with 4 band(s)' in msg and 'bands=(3, 2, 1)' in msg

    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    key = 'train_dataloader.dataset.pipeline.0'
    options = parser.parse_args([
        '--cfg-options', f'{key}.bands=(3,2,1)', f'{key}.scale=minmax',
        f'{key}.min_value={back["min_value"]}',
        f'{key}.max_value={back["max_value"]}'
    ]).cfg_options
    cfg = Config.fromfile(osp.join(configs_dir, 'refsegrs.py'))
    cfg.merge_from_dict(options)
    scaled = DATASETS.build(dict(cfg.train_dataloader.dataset,
                                 data_root=u16_root))
    plain = _build(configs_dir, rgb_root)
    for i in range(len(plain)):
        got, expected = scaled[i], plain[i]
        assert got['inputs'].dtype == torch.uint8
        assert got['inputs'].shape == (3, 480, 480)
        torch.testing.assert_close(got['inputs'], expected['inputs'],
                                   rtol=0, atol=0)
