"""Quirks of real files, on copies written the peers' way
(``published_formats.py``): an RRSIS-D image entry giving the true height
while its RLE is one row shorter, grey COCO JPEGs, EXIF-rotated JPEGs,
polygon parts with 4 coordinates."""
import os.path as osp

import numpy as np
import pytest
from mmengine import Config

from mmrrsis.registry import DATASETS


def _build(configs_dir, name, loader, root, **overrides):
    cfg = Config.fromfile(osp.join(configs_dir, name))
    ds_cfg = cfg[loader]['dataset']
    ds_cfg.update(data_root=root, **overrides)
    return DATASETS.build(ds_cfg)


def test_rle_is_decoded_at_its_own_size(configs_dir,
                                        rrsisd_true_height_copy):
    """15324.jpg: stored 65 high, instances.json says 65, the RLE 64x64.
    The refer API decodes the RLE at its size and reads the sample; so do
    we, resampling the image onto the mask's grid with one warning."""
    root, expected = rrsisd_true_height_copy
    with pytest.warns(UserWarning, match=r'1 sample\(s\).*15324\.jpg is '
                      r'65x64 \(h x w\), its mask 64x64') as record:
        test = _build(configs_dir, 'rrsisd.py', 'test_dataloader', root)
    assert len(record) == 1
    info = test.get_data_info(0)
    assert (info['height'], info['width']) == (64, 64)  # the mask's grid
    sample = test[0]['data_samples']
    np.testing.assert_array_equal(sample.gt_sem_seg.data[0].numpy(),
                                  expected['mask'])
    assert sample.ori_shape == (64, 64)
    with pytest.raises(ValueError, match="15324.jpg is 65x64.*'error'"):
        _build(configs_dir, 'rrsisd.py', 'test_dataloader', root,
               size_mismatch='error')


def test_grey_jpeg_is_expanded_and_counted(configs_dir, refcoco_quirks_copy):
    root, expected = refcoco_quirks_copy
    with pytest.warns(UserWarning) as record:
        val = _build(configs_dir, 'refcoco.py', 'val_dataloader', root)
    messages = [str(w.message) for w in record]
    grey = [m for m in messages if 'single-band 8-bit' in m]
    assert len(grey) == 1 and '1 image(s)' in grey[0]
    assert expected['grey'] in grey[0]
    out = val[0]
    img = out['inputs']
    assert img.shape == (3, 480, 480)
    # three identical bands
    assert bool((img[0] == img[1]).all() and (img[1] == img[2]).all())
    np.testing.assert_array_equal(
        out['data_samples'].gt_sem_seg.data[0].numpy(),
        expected['refs'][1]['mask'])


def test_exif_rotated_jpeg_is_read_as_stored(configs_dir,
                                             refcoco_quirks_copy):
    """Orientation=6: OpenCV would rotate the pixels to 64x48 while the
    polygon was drawn on the stored 48x64 pixels; no warning about a size
    mismatch, the image and mask stay aligned."""
    root, expected = refcoco_quirks_copy
    with pytest.warns(UserWarning) as record:
        val = _build(configs_dir, 'refcoco.py', 'val_dataloader', root,
                     pipeline=[dict(type='LoadRSImageFromFile'),
                               dict(type='LoadReferringAnnotations'),
                               dict(type='PackRRSISInputs')])
    messages = [str(w.message) for w in record]
    assert not any('differs from its mask' in m for m in messages)
    exif = [m for m in messages if 'EXIF orientation' in m]
    assert len(exif) == 1 and 'Orientation=6' in exif[0]
    out = val[1]
    img = out['inputs'].numpy().transpose(1, 2, 0)[..., ::-1]  # RGB
    mask = out['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(mask, expected['refs'][2]['mask'])
    assert img.shape[:2] == mask.shape == (48, 64)
    # the bright box of the stored pixels lies under the mask
    assert img[mask == 1].mean() > 200 and img[mask == 0].mean() < 120


def test_four_coordinate_parts(configs_dir, refcoco_quirks_copy):
    root, expected = refcoco_quirks_copy
    with pytest.warns(UserWarning, match=r'1 annotation\(s\) have polygon '
                      r'parts.*ref_id=3'):
        test = _build(configs_dir, 'refcoco.py', 'test_dataloader', root,
                      split='testA')
    np.testing.assert_array_equal(
        test[0]['data_samples'].gt_sem_seg.data[0].numpy(),
        expected['refs'][3]['mask'])
    with pytest.raises(ValueError, match=r'ref_id=4.*no valid polygon'):
        _build(configs_dir, 'refcoco.py', 'test_dataloader', root,
               split='testB')
