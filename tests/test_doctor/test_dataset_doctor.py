"""The dataset doctor on published-format copies, generated sets and
damaged copies; ``tools/dataset_converters/check_dataset.py``."""
import json
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine import Config

from mmrrsis.doctor import check_dataset, format_report

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'check_dataset.py')
TINY = osp.join(REPO, 'configs', 'tiny', 'lavt_swin-tiny_refsegrs-64x64.py')


def _cfg(path, root, **dataset_options):
    cfg = Config.fromfile(path)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.update(data_root=root,
                                                  **dataset_options)
    return cfg


def _kinds(items):
    return sorted({(i['split'], i['kind']) for i in items})


def _copy(src, tmp_path):
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    return root


def test_rrsisd_copy(configs_dir, rrsisd_copy):
    root, _ = rrsisd_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'rrsisd.py'), root),
                           nproc=2, show_progress=False)
    assert report['usable'] and not report['errors']
    splits = report['splits']
    assert [splits[s]['samples'] for s in ('train', 'val', 'test')] == \
        [6, 2, 4]  # every sentence
    assert [splits[s]['refs'] for s in ('train', 'val', 'test')] == [3, 1, 2]
    assert splits['train']['images'] == 2
    assert splits['train']['categories'] == {'airplane': 2, 'ship': 1,
                                             'vehicle': 3}
    assert splits['test']['categories'] == {'airplane': 2, 'golf field': 2}
    assert splits['train']['size_mismatches'] == 1
    assert splits['test']['size_mismatches'] == 1
    assert splits['test']['size_policy'] == ['resample']
    mismatch = [w for w in report['warnings'] if w['kind'] ==
                'size_mismatch']
    assert len(mismatch) == 2
    assert '00005.jpg is 800x801' in mismatch[1]['message']
    assert "resampled to the mask's grid" in mismatch[1]['message']
    assert 'whitespace estimate' in report['tokens']['counted_with']
    text = format_report(report)
    assert 'The dataset is usable.' in text and 'size_mismatch' in text
    # strict policy: the same mismatches are errors
    strict = check_dataset(
        _cfg(osp.join(configs_dir, 'rrsisd.py'), root,
             size_mismatch='error'), ['test'], nproc=1, show_progress=False)
    assert not strict['usable']
    assert _kinds(strict['errors']) == [('test', 'size_mismatch_refused')]


def test_refcoco_and_refsegrs_copies(configs_dir, refcoco_copy,
                                     refsegrs_copy):
    root, _ = refcoco_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'refcoco.py'), root),
                           nproc=1, show_progress=False)
    assert report['usable'], format_report(report)
    assert report['splits']['test']['samples'] == 8
    assert report['splits']['test']['categories'] == {'car': 3, 'person': 5}
    root, copy = refsegrs_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'refsegrs.py'), root),
                           nproc=1, show_progress=False)
    # the soft edges are accepted (> 50) and reported once per split
    assert report['usable']
    assert _kinds(report['warnings']) == [(s, 'soft_edge')
                                          for s in ('test', 'train', 'val')]
    assert [report['splits'][s]['soft_edged_masks']
            for s in ('train', 'val', 'test')] == [3, 1, 2]
    for split, ids in (('train', '012'), ('val', '3'), ('test', '45')):
        stored = [copy['stored'][i] for i in ids]
        between = sum(int(((m > 0) & (m < 255)).sum()) for m in stored)
        as_target = sum(int(((m > 50) & (m < 255)).sum()) for m in stored)
        summary = report['splits'][split]
        assert (summary['soft_edge_pixels'],
                summary['soft_edge_as_target']) == (between, as_target)
        message = next(w['message'] for w in report['warnings']
                       if w['split'] == split)
        assert (f'{len(ids)} of {len(ids)} masks have a soft edge' in message
                and f'{between:,} pixels, of which {as_target:,} are read '
                'as target' in message and 'value > 50' in message)
    assert report['splits']['train']['categories'] == {
        'building': 1, 'car': 1, 'low vegetation': 1}


def test_generated_sets(configs_dir, refsegrs_root, refer_root):
    root, summary = refsegrs_root
    report = check_dataset(_cfg(osp.join(configs_dir, 'refsegrs.py'), root),
                           nproc=2, show_progress=False)
    assert report['usable'] and not report['errors']
    for split in ('train', 'val', 'test'):
        assert report['splits'][split]['samples'] == summary['splits'][split]
        assert report['splits'][split]['empty_masks'] == 0
    root, summary = refer_root
    report = check_dataset(_cfg(osp.join(configs_dir, 'rrsisd.py'), root),
                           nproc=1, show_progress=False)
    assert report['usable'] and not report['errors']
    assert report['splits']['train']['refs'] == summary['splits']['train']


def test_damaged_rrsisd_copy(configs_dir, rrsisd_copy, tmp_path):
    src, _ = rrsisd_copy
    root = _copy(src, tmp_path)
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    open(osp.join(img_dir, '00002.jpg'), 'wb').close()  # 0 bytes
    os.remove(osp.join(img_dir, '00003.jpg'))
    os.makedirs(osp.join(img_dir, '00003.jpg'))  # a directory
    data = open(osp.join(img_dir, '00001.jpg'), 'rb').read()
    with open(osp.join(img_dir, '00001.jpg'), 'wb') as f:
        f.write(data[:len(data) // 2])  # truncated
    refs_file = osp.join(root, 'rrsisd', 'refs(unc).p')
    refs = pickle.load(open(refs_file, 'rb'), encoding='utf-8')
    refs[4]['ann_id'] = 999  # ref 5: no such annotation
    refs[5]['image_id'] = 77  # ref 6: no such image entry
    with open(refs_file, 'wb') as f:
        pickle.dump(refs, f)
    report = check_dataset(_cfg(osp.join(configs_dir, 'rrsisd.py'), root),
                           nproc=2, show_progress=False)
    assert not report['usable']
    assert _kinds(report['errors']) == [
        ('test', 'missing_annotation'), ('test', 'missing_image_entry'),
        ('train', 'unreadable_file'), ('val', 'directory')]
    by_kind = {e['kind']: e['message'] for e in report['errors']}
    assert 'ann_id 999 of ref_id 5' in by_kind['missing_annotation']
    assert 'image_id 77 of ref_id 6' in by_kind['missing_image_entry']
    assert osp.join(img_dir, '00003.jpg') in by_kind['directory']
    train = [e['message'] for e in report['errors'] if e['split'] == 'train']
    assert any('00002.jpg' in m and '0 bytes' in m for m in train)
    assert any('00001.jpg' in m and 'truncated' in m for m in train)
    assert 'NOT usable' in format_report(report)


def test_damaged_refsegrs_copy(refsegrs_copy, tmp_path):
    src, _ = refsegrs_copy
    root = _copy(src, tmp_path)
    mask = cv2.imread(osp.join(root, 'masks', '0.tif'), 0)
    cv2.imwrite(osp.join(root, 'masks', '0.tif'), (mask > 50).astype(
        np.uint8))  # a 0/1 mask under the authors' > 50
    cv2.imwrite(osp.join(root, 'masks', '3.tif'), np.zeros_like(mask))
    with open(osp.join(root, 'output_phrase_train.txt'), 'ab') as f:
        f.write(b'0 car on the road\r\n'
                b'1 ' + b'very ' * 20 + b'long building\r\n'
                b'2 \xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xae\xe8\xbb\x8a\r\n')
    cfg = _cfg(TINY, root)  # the tiny config's tokenizer counts tokens
    report = check_dataset(cfg, nproc=1, show_progress=False)
    assert not report['usable']
    assert _kinds(report['errors']) == [('train', 'bad_mask_values')]
    error = report['errors'][0]['message']
    assert osp.join(root, 'masks', '0.tif') in error and '0/1 mask' in error
    assert '1 (' in error  # the values found
    assert _kinds(report['warnings']) == [
        ('test', 'soft_edge'), ('train', 'duplicate_expression'),
        ('train', 'long_expression'), ('train', 'soft_edge'),
        ('train', 'unknown_tokens'), ('val', 'empty_mask')]
    assert "the config's tokenizer" in report['tokens']['counted_with']
    assert report['splits']['train']['over_max_tokens'] == 1
    # lenient: the 0/1 mask is read as 0/1, a warning instead of an error
    lenient = check_dataset(_cfg(TINY, root, mask_check='lenient'),
                            ['train'], nproc=1, show_progress=False)
    assert lenient['usable']
    assert ('train', 'lenient_mask') in _kinds(lenient['warnings'])
    # no category anywhere: said, since per-category metrics would vanish
    blind = check_dataset(_cfg(TINY, root, category_names=[]), ['val'],
                          nproc=1, show_progress=False)
    assert ('val', 'no_categories') in _kinds(blind['warnings'])


def test_missing_data_root_and_same_loaders(configs_dir, tmp_path,
                                            refsegrs_copy):
    report = check_dataset(
        _cfg(osp.join(configs_dir, 'refsegrs.py'), str(tmp_path / 'none')),
        nproc=1, show_progress=False)
    assert not report['usable']
    assert _kinds(report['errors']) == [('test', 'cannot_build'),
                                        ('train', 'cannot_build'),
                                        ('val', 'cannot_build')]
    assert 'split file not found' in report['errors'][0]['message']
    root, _ = refsegrs_copy
    cfg = _cfg(TINY, root)
    cfg.test_dataloader = cfg.val_dataloader  # checked once
    report = check_dataset(cfg, ['val', 'test'], nproc=1,
                           show_progress=False)
    assert report['splits']['test'] == dict(same_as='val')


def test_check_dataset_tool(configs_dir, rrsisd_copy, tmp_path):
    root, _ = rrsisd_copy
    out = str(tmp_path / 'report.json')
    options = [f'{s}_dataloader.dataset.data_root={root}'
               for s in ('train', 'val', 'test')]
    proc = subprocess.run(
        [sys.executable, TOOL, osp.join(configs_dir, 'rrsisd.py'),
         '--out', out, '--nproc', '2', '--cfg-options', *options],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'The dataset is usable.' in proc.stdout
    assert 'task/s' in proc.stdout  # the progress bar
    report = json.load(open(out))
    assert report['usable'] and report['splits']['val']['samples'] == 2
    # a broken copy: exit 1 with the problems listed
    broken = _copy(root, tmp_path)
    os.remove(osp.join(broken, 'images', 'rrsisd', 'JPEGImages',
                       '00004.jpg'))
    tool = _load_tool()
    code = tool.main([
        osp.join(configs_dir, 'rrsisd.py'), '--split', 'test', '--quiet',
        '--cfg-options', f'test_dataloader.dataset.data_root={broken}'
    ])
    assert code == 1


def _load_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('check_dataset', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('argv', [['--split', 'dev']])
def test_tool_rejects_unknown_split(configs_dir, argv):
    with pytest.raises(SystemExit):
        _load_tool().parse_args([osp.join(configs_dir, 'rrsisd.py')] + argv)


def test_images_the_loader_would_refuse(configs_dir, refsegrs_uint16_copy):
    """uint16 4-band tiles under a pipeline without bands / scale are
    errors naming each file before training; with them set the copy is
    usable."""
    root = refsegrs_uint16_copy[1]
    path = osp.join(configs_dir, 'refsegrs.py')
    report = check_dataset(_cfg(path, root), nproc=1, show_progress=False)
    assert not report['usable']
    refused = [e for e in report['errors'] if e['kind'] == 'needs_scaling']
    assert {e['split'] for e in refused} == {'train', 'val', 'test'}
    assert len(refused) == 6  # every sample's tile
    assert any(osp.join(root, 'images', '0.tif') in e['message'] and
               'uint16 with 4 band(s)' in e['message'] for e in refused)
    assert 'needs_scaling' in format_report(report)
    cfg = _cfg(path, root)
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.pipeline[0].update(
            bands=(3, 2, 1), scale='percentile')
    fixed = check_dataset(cfg, nproc=1, show_progress=False)
    assert fixed['usable'] and not fixed['errors']
    # a band the tiles do not have is found too
    for split in ('train', 'val', 'test'):
        cfg[f'{split}_dataloader'].dataset.pipeline[0].update(bands=(5, 2, 1))
    wrong = check_dataset(cfg, nproc=1, show_progress=False)
    assert any('asks for band 5' in e['message'] for e in wrong['errors'])


def test_damaged_geotiff_and_vrt_images(refsegrs_copy, configs_dir,
                                        tmp_path):
    """A GeoTIFF whose DEFLATE data is damaged (decodes to garbage without
    a word from libtiff) and a VRT named .tif are errors naming the file
    (and the block)."""
    import hostile_rasters as hr
    import rasterio
    src, _ = refsegrs_copy
    root = _copy(src, tmp_path)
    image = osp.join(root, 'images', '0.tif')
    pixels = cv2.imread(image)[..., ::-1].transpose(2, 0, 1)
    clean = str(tmp_path / 'clean.tif')
    with rasterio.open(clean, 'w', driver='GTiff', width=64, height=64,
                       count=3, dtype='uint8', tiled=True, blockxsize=32,
                       blockysize=32, compress='deflate') as dst:
        dst.write(pixels)
    block = hr.damage_middle(clean, image, num=200)
    hr.write_text(osp.join(root, 'images', '3.tif'),
                  hr.vrt_sources(clean))
    report = check_dataset(_cfg(osp.join(configs_dir, 'refsegrs.py'), root),
                           nproc=1, show_progress=False)
    assert not report['usable']
    errors = {e['split']: e['message'] for e in report['errors']
              if e['kind'] == 'unreadable_file'}
    (r0, r1), (c0, c1) = block.values()
    assert image in errors['train']
    assert f'rows {r0}-{r1}, columns {c0}-{c1}' in errors['train']
    assert 'images/3.tif' in errors['val'] and 'GDAL VRT' in errors['val']
