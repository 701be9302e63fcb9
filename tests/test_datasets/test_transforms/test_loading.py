"""LoadReferringAnnotations: mask files, polygons and RLE."""
import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmrrsis.datasets.transforms import (
    LoadReferringAnnotations,
    decode_segmentation,
)
from mmrrsis.datasets.transforms.loading import decode_rle


def _square_mask():
    mask = np.zeros((20, 30), np.uint8)
    mask[4:10, 5:25] = 1
    return mask


@pytest.mark.parametrize('stored', [1, 255])
def test_mask_file_values_become_01(tmp_path, stored):
    path = str(tmp_path / 'm.tif')
    cv2.imwrite(path, _square_mask() * stored)
    out = LoadReferringAnnotations()(
        dict(seg_map_path=path, seg_fields=[], ori_shape=(20, 30)))
    assert out['gt_seg_map'].dtype == np.uint8
    np.testing.assert_array_equal(out['gt_seg_map'], _square_mask())
    assert out['seg_fields'] == ['gt_seg_map']


def test_threshold_and_multichannel_masks(tmp_path):
    mask = _square_mask() * 200 + 20  # background stored as 20
    path = str(tmp_path / 'm.tif')
    cv2.imwrite(path, mask)
    t = LoadReferringAnnotations(mask_threshold=50)
    np.testing.assert_array_equal(
        t(dict(seg_map_path=path))['gt_seg_map'], _square_mask())
    assert LoadReferringAnnotations()(
        dict(seg_map_path=path))['gt_seg_map'].min() == 1
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 2] = _square_mask() * 255
    cv2.imwrite(path, rgb)
    np.testing.assert_array_equal(
        t(dict(seg_map_path=path))['gt_seg_map'], _square_mask())
    assert 'mask_threshold=50' in repr(t)


def test_polygons_are_united_not_summed():
    a = [0, 0, 10, 0, 10, 10, 0, 10]
    b = [5, 5, 15, 5, 15, 15, 5, 15]  # overlaps a on [5, 10) x [5, 10)
    out = LoadReferringAnnotations()(
        dict(seg_map_path=None, segmentation=[a, b], height=20, width=20))
    gt = out['gt_seg_map']
    assert gt.sum() == 100 + 100 - 25
    assert gt[7, 7] == 1  # covered twice: lost by "sum == 1"
    summed = decode_rle(mask_utils.frPyObjects([a, b], 20, 20)).sum(2)
    assert summed[7, 7] == 2


def test_rle_forms_decode_alike():
    mask = _square_mask()
    rle = mask_utils.encode(np.asfortranarray(mask))
    as_str = dict(size=rle['size'], counts=rle['counts'].decode())
    flat = mask.ravel(order='F')
    runs, value, count = [], 0, 0
    for v in flat:
        if v != value:
            runs.append(count)
            value, count = v, 0
        count += 1
    runs.append(count)
    as_list = dict(size=[20, 30], counts=runs)
    for seg in (rle, as_str, as_list, [as_str]):
        np.testing.assert_array_equal(decode_segmentation(seg, 20, 30), mask)
    np.testing.assert_array_equal(decode_segmentation([], 20, 30),
                                  np.zeros((20, 30)))


def test_bad_annotations_raise():
    t = LoadReferringAnnotations()
    with pytest.raises(ValueError, match='RLE size'):
        t(dict(segmentation=dict(size=[5, 5], counts='0'), height=20,
               width=30, ref_id=4))
    with pytest.raises(ValueError, match='even number'):
        t(dict(segmentation=[[1, 2, 3, 4, 5]], height=20, width=30))
    with pytest.raises(KeyError, match='neither a mask file'):
        t(dict(seg_map_path=None, ref_id=9))


def test_mask_and_image_size_must_agree(tmp_path):
    path = str(tmp_path / 'm.tif')
    cv2.imwrite(path, _square_mask())
    with pytest.raises(ValueError, match='not aligned'):
        LoadReferringAnnotations()(
            dict(seg_map_path=path, ori_shape=(30, 20), img_path='i.tif'))
    with pytest.raises(ValueError, match='not aligned'):
        LoadReferringAnnotations()(
            dict(segmentation=[[0, 0, 5, 0, 5, 5]], height=20, width=20,
                 ori_shape=(20, 30)))
    out = LoadReferringAnnotations(check_shape=False)(
        dict(seg_map_path=path, ori_shape=(30, 20)))
    assert out['gt_seg_map'].shape == (20, 30)


def test_missing_and_corrupt_mask_files(tmp_path):
    missing = str(tmp_path / 'none.tif')
    with pytest.raises(FileNotFoundError, match='none.tif'):
        LoadReferringAnnotations()(dict(seg_map_path=missing, ref_id='1'))
    corrupt = tmp_path / 'bad.tif'
    corrupt.write_bytes(b'not a tiff at all')
    with pytest.raises(ValueError, match='bad.tif.*corrupt') as e:
        LoadReferringAnnotations()(
            dict(seg_map_path=str(corrupt), ref_id='8'))
    assert "ref_id='8'" in str(e.value)
    empty = tmp_path / 'empty.tif'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.tif'):
        LoadReferringAnnotations()(dict(seg_map_path=str(empty)))
