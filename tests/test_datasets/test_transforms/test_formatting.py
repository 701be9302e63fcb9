"""PackRRSISInputs: the data sample contract."""
import numpy as np
import pytest
import torch
from mmseg.structures import SegDataSample

from mmrrsis.datasets.transforms import PackRRSISInputs


def _results(**extra):
    img = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    gt = np.zeros((4, 5), np.uint8)
    gt[1:3, 2:4] = 1
    results = dict(
        img=img, gt_seg_map=gt, img_path='a.tif', seg_map_path='m.tif',
        ori_shape=(4, 5), img_shape=(4, 5), reduce_zero_label=False,
        text='long truck')
    results.update(extra)
    return results


def test_pack_contract():
    out = PackRRSISInputs()(
        _results(ref_id='7', sent_id=3, category='truck', scale_factor=(2.,
                                                                         2.)))
    inputs, sample = out['inputs'], out['data_samples']
    assert isinstance(sample, SegDataSample)
    assert inputs.shape == (3, 4, 5) and inputs.dtype == torch.uint8
    assert inputs[:, 1, 2].tolist() == _results()['img'][1, 2].tolist()
    gt = sample.gt_sem_seg.data
    assert gt.shape == (1, 4, 5) and gt.dtype == torch.int64
    assert gt.sum() == 4
    meta = sample.metainfo
    assert meta['text'] == 'long truck' and meta['ref_id'] == '7'
    assert meta['sent_id'] == 3 and meta['category'] == 'truck'
    assert meta['scale_factor'] == (2., 2.)
    assert meta['flip'] is False and meta['flip_direction'] is None
    assert meta['pad_shape'] == (4, 5)
    assert meta['img_path'] == 'a.tif' and meta['seg_map_path'] == 'm.tif'


def test_pack_defaults_and_missing_text():
    meta = PackRRSISInputs()(_results())['data_samples'].metainfo
    assert meta['ref_id'] is None and meta['sent_id'] is None
    assert meta['category'] is None
    with pytest.raises(KeyError, match='no text'):
        PackRRSISInputs()(_results(text=None))
    assert 'text' in repr(PackRRSISInputs())
