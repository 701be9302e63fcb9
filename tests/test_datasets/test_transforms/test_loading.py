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
    with pytest.raises(ValueError, match='no background value 0') as e:
        t(dict(seg_map_path=path))
    assert path in str(e.value) and '20 (' in str(e.value)
    lenient = LoadReferringAnnotations(mask_threshold=50, mask_check='lenient')
    with pytest.warns(UserWarning, match='read leniently'):
        np.testing.assert_array_equal(
            lenient(dict(seg_map_path=path))['gt_seg_map'], _square_mask())
    # the sample's rule applies when the transform sets none
    with pytest.raises(ValueError, match='no background'):
        LoadReferringAnnotations()(
            dict(seg_map_path=path, mask_threshold=50))
    # channels with different content are refused, identical ones are fine
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 2] = _square_mask() * 255
    cv2.imwrite(path, rgb)
    with pytest.raises(ValueError, match='3 channels with different'):
        t(dict(seg_map_path=path))
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(
            lenient(dict(seg_map_path=path))['gt_seg_map'], _square_mask())
    cv2.imwrite(path, np.repeat(_square_mask()[..., None] * 255, 3, axis=2))
    np.testing.assert_array_equal(
        t(dict(seg_map_path=path))['gt_seg_map'], _square_mask())
    assert 'mask_threshold=50' in repr(t)
    assert "mask_check='lenient'" in repr(lenient)


def _soft_edged(ring_value=128, width=1):
    """A 0/255 square with a ring of ``ring_value`` around it."""
    mask = np.zeros((40, 40), np.uint8)
    mask[10 - width:30 + width, 10 - width:30 + width] = ring_value
    mask[10:30, 10:30] = 255
    return mask


@pytest.mark.parametrize('width', [1, 2])
def test_soft_edge_is_accepted(tmp_path, width):
    path = str(tmp_path / 'm.png')
    cv2.imwrite(path, _soft_edged(128, width))
    gt = LoadReferringAnnotations(mask_threshold=50)(
        dict(seg_map_path=path))['gt_seg_map']
    expected = np.zeros((40, 40), np.uint8)
    expected[10 - width:30 + width, 10 - width:30 + width] = 1
    np.testing.assert_array_equal(gt, expected)
    cv2.imwrite(path, _soft_edged(40, width))  # under the threshold
    gt = LoadReferringAnnotations(mask_threshold=50)(
        dict(seg_map_path=path))['gt_seg_map']
    np.testing.assert_array_equal(gt, _soft_edged(255, 0) > 0)


def test_many_levels_and_noise_are_refused(tmp_path):
    path = str(tmp_path / 'm.png')
    cv2.imwrite(path, _soft_edged(128, width=5))  # a thick 128 ring
    with pytest.raises(ValueError, match='many levels') as e:
        LoadReferringAnnotations(mask_threshold=50)(dict(seg_map_path=path))
    assert '128 (' in str(e.value) and path in str(e.value)
    noisy = _soft_edged(255, 0)
    noisy[0, ::3] = 60  # speckles far from the target
    cv2.imwrite(path, noisy)
    with pytest.raises(ValueError, match='farther than 2 px'):
        LoadReferringAnnotations(mask_threshold=50)(dict(seg_map_path=path))
    ramp = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (8, 1))
    cv2.imwrite(path, ramp)
    with pytest.raises(ValueError, match='many levels'):
        LoadReferringAnnotations(mask_threshold=50)(dict(seg_map_path=path))


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
    with pytest.raises(ValueError, match='even number'):
        t(dict(segmentation=[[1, 2, 3, 4, 5]], height=20, width=30))
    with pytest.raises(ValueError, match='differ in size'):
        t(dict(segmentation=[dict(size=[5, 5], counts='0'),
                             dict(size=[6, 5], counts='0')], height=5,
               width=5))
    with pytest.raises(KeyError, match='neither a mask file'):
        t(dict(seg_map_path=None, ref_id=9))


def test_mask_and_image_size_policies(tmp_path):
    path = str(tmp_path / 'm.tif')
    cv2.imwrite(path, _square_mask())
    img = np.full((21, 30, 3), 7, np.uint8)  # one row more than the mask
    with pytest.raises(ValueError, match='not aligned'):
        LoadReferringAnnotations(size_mismatch='error')(
            dict(seg_map_path=path, img=img, ori_shape=(21, 30),
                 img_path='i.tif'))
    with pytest.raises(ValueError, match='not aligned'):
        LoadReferringAnnotations()(
            dict(segmentation=[[0, 0, 5, 0, 5, 5]], height=20, width=20,
                 ori_shape=(20, 30), size_mismatch='error'))
    # resample before Resize: the image goes to the mask's grid; a sample
    # of no referring dataset (no size_mismatch key) warns once
    t = LoadReferringAnnotations()
    with pytest.warns(UserWarning, match='resampled to the mask'):
        out = t(dict(seg_map_path=path, img=img.copy(), img_shape=(21, 30),
                     ori_shape=(21, 30)))
    assert out['img'].shape == (20, 30, 3) and (out['img'] == 7).all()
    assert out['img_shape'] == out['ori_shape'] == (20, 30)
    # after Resize: ori_shape (what predictions are resized to) follows
    # the mask; the sample of a referring dataset does not warn again
    out = t(dict(seg_map_path=path, img=np.zeros((8, 8, 3), np.uint8),
                 img_shape=(8, 8), ori_shape=(21, 30),
                 scale_factor=(8 / 30, 8 / 21), size_mismatch='resample'))
    assert out['img'].shape == (8, 8, 3)
    assert out['ori_shape'] == (20, 30)
    assert out['scale_factor'] == (8 / 30, 8 / 20)
    out = LoadReferringAnnotations(check_shape=False)(
        dict(seg_map_path=path, ori_shape=(30, 20)))
    assert out['gt_seg_map'].shape == (20, 30)


def test_overlap_rule_of_the_refer_api():
    a = [0, 0, 10, 0, 10, 10, 0, 10]
    b = [5, 5, 15, 5, 15, 15, 5, 15]
    sample = dict(segmentation=[a, b], height=20, width=20)
    union = LoadReferringAnnotations()(dict(sample))['gt_seg_map']
    refer = LoadReferringAnnotations(polygon_overlap='refer')(
        dict(sample))['gt_seg_map']
    assert union.sum() == 175 and refer.sum() == 150
    assert union[7, 7] == 1 and refer[7, 7] == 0
    from_sample = LoadReferringAnnotations()(
        dict(sample, polygon_overlap='refer'))['gt_seg_map']
    np.testing.assert_array_equal(from_sample, refer)
    with pytest.raises(ValueError, match='polygon_overlap'):
        LoadReferringAnnotations(polygon_overlap='sum')


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


def test_rle_decodes_at_its_own_size_and_the_image_follows():
    """RRSIS-D's 15324.jpg: stored 801 px high, instances.json says 801,
    its RLE 800x800. The refer API decodes the RLE at its own size; so do
    we, then the size policy puts the image on the mask's grid."""
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 3:6] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    seg = [dict(size=[8, 8], counts=rle['counts'].decode())]
    with pytest.warns(UserWarning, match='resampled'):
        out = LoadReferringAnnotations()(dict(
            segmentation=seg, height=9, width=8,
            img=np.zeros((9, 8, 3), np.uint8), img_shape=(9, 8),
            ori_shape=(9, 8)))
    np.testing.assert_array_equal(out['gt_seg_map'], mask)
    assert out['img'].shape[:2] == (8, 8) and out['ori_shape'] == (8, 8)
    with pytest.raises(ValueError, match='not aligned'):
        LoadReferringAnnotations(size_mismatch='error')(dict(
            segmentation=seg, height=9, width=8, ori_shape=(9, 8)))


def test_degenerate_polygon_parts_are_dropped():
    """A valid polygon and a 4-value part: the refer API draws nothing for
    the part (pycocotools rasterises it to no pixel), so do we."""
    square = [4., 4., 20., 4., 20., 20., 4., 20.]
    alone = decode_segmentation([square], 30, 30)
    np.testing.assert_array_equal(
        decode_segmentation([square, [25., 25., 28., 28.]], 30, 30), alone)
    refer = decode_rle(mask_utils.frPyObjects(
        [square, [25., 25., 28., 28.]], 30, 30)).sum(2)
    np.testing.assert_array_equal(refer, alone)  # the refer API's reading
    with pytest.raises(ValueError, match='no polygon part'):
        decode_segmentation([[1., 2., 3., 4.]], 30, 30)


def test_segmentations_unite_and_none_is_no_target():
    a = np.zeros((10, 12), np.uint8)
    a[1:4, 1:4] = 1
    b = np.zeros((10, 12), np.uint8)
    b[3:8, 6:10] = 1
    segs = [dict(size=[10, 12],
                 counts=mask_utils.encode(np.asfortranarray(m))['counts'])
            for m in (a, b)]
    t = LoadReferringAnnotations()
    out = t(dict(segmentations=segs, height=10, width=12))
    np.testing.assert_array_equal(out['gt_seg_map'], a | b)
    out = t(dict(segmentations=[], height=10, width=12))
    assert out['gt_seg_map'].shape == (10, 12)
    assert out['gt_seg_map'].sum() == 0


def test_auto_threshold_reads_each_file_as_stored(tmp_path):
    """RISBench's mask values are unconfirmed: 0/1 and 0/255 files are both
    read right, a 255 never becomes "ignore"."""
    mask = np.zeros((10, 10), np.uint8)
    mask[2:6, 2:6] = 1
    t = LoadReferringAnnotations(mask_threshold='auto')
    for value in (1, 255):
        path = str(tmp_path / f'm{value}.png')
        cv2.imwrite(path, mask * value)
        out = t(dict(seg_map_path=path))
        np.testing.assert_array_equal(out['gt_seg_map'], mask)
