"""The dataset contract: sample keys, rules, checks at build, problems."""

import cv2
import numpy as np
import pytest

from mmrrsis.datasets import (
    BaseReferringDataset,
    RefSegRSDataset,
    RRSISDDataset,
)
from mmrrsis.registry import DATASETS

CONTRACT_KEYS = {
    'img_path', 'seg_map_path', 'text', 'ref_id', 'sent_id', 'category',
    'split', 'source', 'mask_threshold', 'mask_check', 'polygon_overlap',
    'size_mismatch', 'seg_fields', 'reduce_zero_label', 'label_map'
}


def test_every_dataset_keeps_the_contract(refsegrs_copy, rrsisd_copy):
    root, _ = refsegrs_copy
    refsegrs = RefSegRSDataset(data_root=root)
    root, _ = rrsisd_copy
    with pytest.warns(UserWarning):
        rrsisd = RRSISDDataset(data_root=root, text_mode='random')
    for ds in (refsegrs, rrsisd):
        assert isinstance(ds, BaseReferringDataset)
        assert ds.metainfo['classes'] == ('background', 'target')
        info = ds.get_data_info(0)
        assert CONTRACT_KEYS <= set(info)
    assert refsegrs.get_data_info(0)['mask_threshold'] == 50
    info = rrsisd.get_data_info(0)
    assert info['text'] is None and info['sent_id'] is None
    assert len(info['texts']) == len(info['sent_ids']) == 2
    assert {'segmentation', 'height', 'width'} <= set(info)


def test_old_mixin_name_still_works():
    from mmseg.datasets import BaseSegDataset

    from mmrrsis.datasets.refsegrs import ReferringDatasetMixin

    class Mine(ReferringDatasetMixin, BaseSegDataset):
        def read_annotations(self):
            return []

    assert issubclass(Mine, BaseReferringDataset)
    assert len(Mine(serialize_data=False)) == 0


def test_expand_sentences():
    base = dict(ref_id=3)
    all_ = BaseReferringDataset.expand_sentences(base, ['a', 'b'], [7, 8],
                                                 'all')
    assert all_ == [dict(ref_id=3, text='a', sent_id=7),
                    dict(ref_id=3, text='b', sent_id=8)]
    one = BaseReferringDataset.expand_sentences(base, ['a', 'b'], [7, 8],
                                                'random')
    assert one == [dict(ref_id=3, text=None, sent_id=None, texts=['a', 'b'],
                        sent_ids=[7, 8])]
    with pytest.raises(ValueError, match='text_mode'):
        BaseReferringDataset.expand_sentences(base, ['a'], [1], 'first')


@DATASETS.register_module(force=True)
class _ListDataset(BaseReferringDataset):
    """A new dataset: samples given as a list, as a user would add one."""

    def __init__(self, samples, **kwargs):
        self.samples = samples
        super().__init__(**kwargs)

    def read_annotations(self):
        for sample in self.samples:
            if sample.get('bad'):
                self.report_problem('bad_line', f'sample {sample["ref_id"]} '
                                    'is bad', str(sample['ref_id']))
                continue
        return [dict(s) for s in self.samples if not s.get('bad')]


def _files(tmp_path, img_hw, mask_hw):
    img, mask = str(tmp_path / 'i.png'), str(tmp_path / 'm.png')
    cv2.imwrite(img, np.zeros(img_hw + (3, ), np.uint8))
    cv2.imwrite(mask, np.zeros(mask_hw, np.uint8))
    return img, mask


def test_a_new_dataset_gets_the_rules_and_checks(tmp_path):
    img, mask = _files(tmp_path, (30, 20), (30, 21))
    sample = dict(img_path=img, seg_map_path=mask, text='t', ref_id=1,
                  sent_id=0, category=None, source='list:1')
    with pytest.warns(UserWarning) as record:
        ds = _ListDataset([sample], mask_threshold=7)
    messages = [str(w.message) for w in record]
    assert any('image whose size differs' in m and '30x20' in m
               for m in messages)
    assert any('No sample of _ListDataset' in m and 'category' in m
               for m in messages)
    info = ds.get_data_info(0)
    assert info['mask_threshold'] == 7 and info['split'] is None
    with pytest.raises(ValueError, match='is bad'):
        _ListDataset([dict(sample, bad=True)])
    # the doctor's mode: problems are recorded, nothing is raised or said
    missing = dict(sample, img_path=str(tmp_path / 'none.png'), ref_id=2)
    quiet = _ListDataset([dict(sample, bad=True), missing, sample],
                         collect_problems=True)
    assert [p['kind'] for p in quiet.problems] == ['bad_line',
                                                   'missing_file']
    assert 'none.png' in quiet.problems[1]['message']
    assert len(quiet) == 1 and len(quiet.size_mismatches) == 1


def test_rules_are_checked():
    for bad in (dict(mask_check='loose'), dict(size_mismatch='crop'),
                dict(polygon_overlap='sum')):
        with pytest.raises(ValueError, match=list(bad)[0]):
            _ListDataset([], **bad)


def test_image_header_sizes_are_the_stored_pixels(tmp_path):
    """An EXIF orientation is reported, never applied: the masks were
    drawn on the stored pixels (cv2.imread would rotate them)."""
    from PIL import Image

    from mmrrsis.datasets.file_checks import (
        read_image_header,
        read_image_size,
    )
    path = str(tmp_path / 'rotated.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: cv2 swaps width and height
    Image.new('RGB', (40, 10)).save(path, exif=exif)
    assert cv2.imread(path).shape[:2] == (40, 10)  # what we do not do
    assert read_image_size(path) == (10, 40)
    assert read_image_size(path, dict(backend='local')) == (10, 40)
    assert read_image_header(path) == (10, 40, False, 6)
    grey = str(tmp_path / 'grey.png')
    Image.new('L', (7, 5)).save(grey)
    assert read_image_header(grey) == (5, 7, True, 1)
