"""The doctor on the quirks of real files and the new benchmarks' copies
(written the peers' way by ``published_formats.py``), and a copy compared
with the published counts."""
import os
import os.path as osp
import shutil

from doctor_checks import config_on as _cfg
from doctor_checks import kinds as _kinds

from mmrrsis.doctor import check_dataset, format_report
from mmrrsis.doctor.published import PUBLISHED, compare_with_published


def _messages(items, kind):
    return [i['message'] for i in items if i['kind'] == kind]


def test_rle_on_its_own_grid(configs_dir, rrsisd_true_height_copy):
    root, _ = rrsisd_true_height_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'rrsisd.py'), root),
                           ['test'], nproc=1, show_progress=False)
    assert report['usable'], format_report(report)
    [message] = _messages(report['warnings'], 'size_mismatch')
    assert '15324.jpg is 65x64' in message and 'mask 64x64' in message
    assert "resampled to the mask's grid" in message


def test_grey_exif_and_polygon_parts(configs_dir, refcoco_quirks_copy):
    root, _ = refcoco_quirks_copy
    cfg = _cfg(osp.join(configs_dir, 'refcoco.py'), root)
    cfg.test_dataloader.dataset.split = ['testA']
    report = check_dataset(cfg, ['val', 'test'], nproc=1,
                           show_progress=False)
    assert report['usable'], format_report(report)
    assert _kinds(report['warnings']) == [
        ('test', 'degenerate_polygon'), ('val', 'exif_orientation'),
        ('val', 'grey_image'), ('val+testA', 'published_counts')]
    [grey] = _messages(report['warnings'], 'grey_image')
    assert 'COCO_train2014_000000000001.jpg' in grey and '3 identical' in grey
    [exif] = _messages(report['warnings'], 'exif_orientation')
    assert 'COCO_train2014_000000000002.jpg' in exif
    assert 'Orientation=6' in exif and 'read as stored' in exif
    [parts] = _messages(report['warnings'], 'degenerate_polygon')
    assert 'ref_id=3' in parts and '[8, 4]' in parts
    # stored pixels: the EXIF-rotated image and its mask agree
    assert report['splits']['val']['size_mismatches'] == 0
    assert report['splits']['val']['grey_images'] == 1
    assert report['splits']['val']['exif_oriented'] == 1
    assert 'grey (single-band 8-bit) images: 1' in format_report(report)
    # an annotation with no valid part is an error naming the ref
    cfg.test_dataloader.dataset.split = ['testB']
    report = check_dataset(cfg, ['test'], nproc=1, show_progress=False)
    assert not report['usable']
    [error] = _messages(report['errors'], 'bad_segmentation')
    assert 'ref_id=4' in error and 'no valid polygon part' in error


def test_risbench_mask_values_per_file(configs_dir, risbench_copy):
    root, expected = risbench_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'risbench.py'), root),
                           nproc=1, show_progress=False)
    assert report['usable'], format_report(report)
    values = {}
    for split in ('train', 'val', 'test'):
        for kind, n in report['splits'][split]['mask_values'].items():
            values[kind] = values.get(kind, 0) + n
    stored = list(expected['stored'].values())
    assert values == {'0/1': stored.count(1), '0/255': stored.count(255)}
    assert 'mask files stored as (values: files): 0/1: 1, 0/255: 2' in \
        format_report(report)


def test_jsonl_rles_against_the_mask_files(configs_dir, jsonl_copies):
    """Given the mask folder, the doctor compares each line's RLE with the
    mask file: the converter's stripes from soft edges are named."""
    root, _ = jsonl_copies['refsegrs']
    cfg = _cfg(osp.join(configs_dir, 'refsegrs_jsonl.py'), root,
               data_prefix=dict(img_path='images', seg_map_path='masks'))
    report = check_dataset(cfg, ['val'], nproc=1, show_progress=False)
    assert report['usable']
    [differs] = _messages(report['warnings'], 'jsonl_mask_differs')
    assert 'refsegrs_val.jsonl:1' in differs and '3.tif' in differs
    assert 'stripes' in differs
    root, _ = jsonl_copies['risbench']  # two-level masks: the same
    cfg = _cfg(osp.join(configs_dir, 'risbench_jsonl.py'), root,
               data_prefix=dict(img_path='img_rgb', seg_map_path='mask'))
    report = check_dataset(cfg, nproc=1, show_progress=False)
    assert report['usable']
    assert not _messages(report['warnings'], 'jsonl_mask_differs')


def test_grefcoco_no_and_multi_target(configs_dir, grefcoco_copy):
    root, _ = grefcoco_copy
    report = check_dataset(_cfg(osp.join(configs_dir, 'grefcoco.py'), root),
                           ['train', 'val'], nproc=1, show_progress=False)
    assert report['usable'], format_report(report)
    val = report['splits']['val']
    # ref 11 (one sentence, two people) and ref 12 (two sentences)
    assert (val['no_target'], val['multi_target']) == (2, 1)
    assert val['empty_masks'] == 0  # an empty no-target mask is right
    assert not report['published']  # no published counts for gRefCOCO


def test_published_counts(configs_dir, rrsisd_copy, tmp_path):
    src, _ = rrsisd_copy
    root = str(tmp_path / 'copy')
    shutil.copytree(src, root)
    os.remove(osp.join(root, 'images', 'rrsisd', 'JPEGImages',
                       '00004.jpg'))  # ref 5 (test)
    report = check_dataset(_cfg(osp.join(configs_dir, 'rrsisd.py'), root),
                           nproc=1, show_progress=False)
    [comparison] = report['published']
    assert comparison['dataset'] == 'RRSIS-D' and not comparison['complete']
    assert comparison['message'].startswith(
        'RRSIS-D: 5 of 17,402 images: 1 missing, e.g. 00004.jpg (test, '
        'ref_id 5); train 3 of 12,181, val 1 of 1,740, test 1 of 3,481')
    assert 'Published counts: RRSIS-D: 5 of 17,402' in format_report(report)
    assert ('train+val+test', 'published_counts') in _kinds(
        report['warnings'])
    assert ('test', 'missing_file') in _kinds(report['errors'])


def test_published_count_arithmetic():
    """The message on the numbers of RMSIN issue #2: 63 of 17,402 images
    missing (split summaries as the doctor writes them)."""
    missing = [dict(path=f'/d/{i:05d}.jpg', ref_id=i, split='train')
               for i in range(63)]
    summaries = dict(
        train=dict(published_as='RRSIS-D',
                   refs_per_split=dict(train=12181 - 63),
                   missing_images=missing),
        val=dict(published_as='RRSIS-D', refs_per_split=dict(val=1740),
                 missing_images=[]),
        test=dict(published_as='RRSIS-D', refs_per_split=dict(test=3481),
                  missing_images=[]))
    [c] = compare_with_published(summaries)
    assert c['message'].startswith(
        'RRSIS-D: 17,339 of 17,402 images: 63 missing, e.g. 00000.jpg '
        '(train, ref_id 0), 00001.jpg (train, ref_id 1), 00002.jpg (train, '
        'ref_id 2); train 12,118 of 12,181, val 1,740 of 1,740, test 3,481 '
        'of 3,481')
    assert c['missing'] == 63 and len(c['missing_examples']) == 10
    # every split whole: complete; RISBench: only its total is published
    whole = {s: dict(published_as='RefSegRS',
                     samples_per_split={s: PUBLISHED['RefSegRS']['splits'][s]})
             for s in ('train', 'val', 'test')}
    assert compare_with_published(whole)[0]['complete']
    [risbench] = compare_with_published(dict(
        val=dict(published_as='RISBench', samples_per_split=dict(val=9))))
    assert risbench['message'].startswith('RISBench: 9 of 52,472 triplets')
