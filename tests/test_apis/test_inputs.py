"""One rule for inference inputs: 8-bit RGB files and 8-bit BGR / grey
arrays as they are, everything else only with an explicit scaling, which
gives the same prediction as the equivalent 8-bit RGB image."""
import os.path as osp

import cv2
import numpy as np
import pytest
import rasterio
import torch

from mmrrsis.apis import (
    InferencePipeline,
    RRSISInferencer,
    array_to_bgr,
    image_loader,
    inference_model,
    init_model,
    load_config,
    load_image,
)
from mmrrsis.datasets.band_scaling import BandScaling, BandScalingError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
TEXT = 'the gray car'
#: uint16 = OFFSET + GAIN * uint8 (12-bit data), per band
OFFSET, GAIN = 100, 15
#: 'minmax' settings that map the uint16 variant back to the 8-bit values
MINMAX = dict(scale='minmax', min_value=OFFSET, max_value=OFFSET + 255 * GAIN)


@pytest.fixture(scope='module')
def bgr8(refsegrs_root):
    """An 8-bit BGR tile whose every channel is 0 on its first 3 rows and
    255 on its last 3 (so its 2nd / 98th percentiles are 0 and 255)."""
    img = cv2.imread(osp.join(refsegrs_root, 'images', '0.tif'))
    img[:3], img[-3:] = 0, 255
    return img


def bgrn16(bgr8):
    """The same content as uint16 blue, green, red, NIR (H, W, 4)."""
    nir = bgr8[..., 1:2]
    return OFFSET + GAIN * np.concatenate([bgr8, nir], -1).astype(np.uint16)


def write_geotiff(path, hwc):
    with rasterio.open(
            path, 'w', driver='GTiff', width=hwc.shape[1],
            height=hwc.shape[0], count=hwc.shape[2], dtype=hwc.dtype,
            crs='EPSG:32632',
            transform=rasterio.transform.from_origin(5e5, 5e6, .13,
                                                     .13)) as dst:
        dst.write(hwc.transpose(2, 0, 1))
    return str(path)


@pytest.fixture(scope='module')
def inferencer(lavt_tiny_ckpt):
    return RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu')


def logits(inferencer, img, **kwargs):
    sample = inferencer(img, texts=[TEXT], return_datasamples=True,
                        **kwargs)[0]
    return sample.seg_logits.data


# ------------------------------------------------------------ files
def test_uint16_4band_geotiff_needs_bands_and_scaling(lavt_tiny_ckpt, bgr8,
                                                      inferencer, tmp_path):
    rgb8 = str(tmp_path / 'rgb8.png')
    cv2.imwrite(rgb8, bgr8)
    tif = write_geotiff(tmp_path / 'bgrn16.tif', bgrn16(bgr8))
    with pytest.raises(BandScalingError) as info:
        inferencer(tif, texts=TEXT)
    msg = str(info.value)
    assert 'bgrn16.tif is uint16 with 4 band(s)' in msg
    assert 'bands=(3, 2, 1)' in msg and "scale='percentile'" in msg
    expected = logits(inferencer, rgb8)
    for settings in (dict(bands=(3, 2, 1), scale='percentile'),
                     dict(bands=(3, 2, 1), **MINMAX)):
        scaled = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                                 scaling=settings)
        torch.testing.assert_close(logits(scaled, tif), expected, rtol=0,
                                   atol=0)
        out = scaled(tif, texts=TEXT)['predictions']
        np.testing.assert_array_equal(
            out, inferencer(rgb8, texts=TEXT)['predictions'])
    # the wrong band order is another image: the comparison can fail
    swapped = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                              scaling=dict(bands=(1, 2, 3), **MINMAX))
    assert not torch.allclose(logits(swapped, tif), expected)


def test_config_settings_apply_and_scaling_replaces_them(
        lavt_tiny_ckpt, bgr8, inferencer, tmp_path):
    """A config whose LoadRSImageFromFile selects bands and scales reads
    such files without arguments; ``scaling`` replaces it as a whole."""
    tif = write_geotiff(tmp_path / 'bgrn16.tif', bgrn16(bgr8))
    loader = 'test_dataloader.dataset.pipeline.0'
    options = {f'{loader}.{k}': v for k, v in MINMAX.items()}
    options[f'{loader}.bands'] = (3, 2, 1)
    configured = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                                 cfg_options=options)
    torch.testing.assert_close(logits(configured, tif),
                               logits(inferencer, bgr8), rtol=0, atol=0)
    none = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                           cfg_options=options, scaling={})
    with pytest.raises(BandScalingError, match='uint16 with 4 band'):
        none(tif, texts=TEXT)


def test_config_with_mmcv_loader_still_refuses_uint16(tmp_path, bgr8):
    """A config that kept mmcv's LoadImageFromFile (which would read a
    16-bit PNG as its top 8 bits) is read with LoadRSImageFromFile, with
    its decoding backend and no scaling."""
    cfg = load_config(LAVT_TINY, {
        'test_dataloader.dataset.pipeline.0': dict(
            type='LoadImageFromFile', imdecode_backend='pillow')})
    pipeline = InferencePipeline(cfg)
    assert pipeline.loader.imdecode_backend == 'pillow'
    assert pipeline.loader.scaling.scale is None
    png16 = str(tmp_path / 'img16.png')
    cv2.imwrite(png16, bgr8.astype(np.uint16) * 16)
    with pytest.raises(BandScalingError, match='img16.png is uint16'):
        pipeline.image(png16)
    png8 = str(tmp_path / 'img8.png')
    cv2.imwrite(png8, bgr8)
    np.testing.assert_array_equal(pipeline.image(png8), bgr8)


# ----------------------------------------------------------- arrays
def test_arrays_other_than_8bit_need_a_scaling(lavt_tiny_ckpt, bgr8,
                                               inferencer):
    u16 = bgrn16(bgr8)
    with pytest.raises(BandScalingError) as info:
        inferencer(u16, texts=TEXT)
    msg = str(info.value)
    assert 'uint16 of shape (64, 64, 4)' in msg
    assert 'bands=(r, g, b)' in msg and "scale='percentile'" in msg
    floats = bgr8.astype(np.float32) / 255
    with pytest.raises(BandScalingError, match=r'float32 of shape '
                       r'\(64, 64, 3\).*0 and 1 for float 0-1'):
        inferencer(floats, texts=TEXT)
    four = np.concatenate([bgr8, bgr8[..., :1]], -1)
    with pytest.raises(BandScalingError, match=r'uint8 of shape \(64, 64, '
                       r'4\).*bands=\(r, g, b\)'):
        inferencer(four, texts=TEXT)
    expected = logits(inferencer, bgr8)
    # with a scaling an array is (H, W, bands) in band order, like a raster
    for array, settings in (
            (u16, dict(bands=(3, 2, 1), **MINMAX)),
            (u16, dict(bands=(3, 2, 1), scale='percentile')),
            (floats[..., ::-1], dict(scale='minmax', min_value=0,
                                     max_value=1)),
            (four, dict(bands=(3, 2, 1)))):
        scaled = RRSISInferencer(LAVT_TINY, lavt_tiny_ckpt, device='cpu',
                                 scaling=settings)
        torch.testing.assert_close(logits(scaled, array), expected, rtol=0,
                                   atol=0)


def test_inference_model_takes_the_same_scaling(lavt_tiny_ckpt, bgr8):
    model = init_model(LAVT_TINY, lavt_tiny_ckpt, device='cpu')
    expected = inference_model(model, bgr8, TEXT).seg_logits.data
    with pytest.raises(BandScalingError, match='uint16'):
        inference_model(model, bgrn16(bgr8), TEXT)
    got = inference_model(model, bgrn16(bgr8), TEXT,
                          scaling=dict(bands=(3, 2, 1), **MINMAX))
    torch.testing.assert_close(got.seg_logits.data, expected, rtol=0,
                               atol=0)


def test_array_rule_without_a_model(bgr8):
    plain = BandScaling()
    np.testing.assert_array_equal(array_to_bgr(bgr8, plain), bgr8)
    grey = array_to_bgr(bgr8[..., 0], plain)
    assert grey.shape == (64, 64, 3) and (grey == bgr8[..., :1]).all()
    with pytest.raises(BandScalingError, match=r'1 band.*\(1, 1, 1\)'):
        array_to_bgr(bgr8[..., 0].astype(np.uint16), BandScaling(
            scale='minmax', min_value=0, max_value=255))
    # NaN (e.g. no data in a float raster) is left out of the percentiles
    floats = bgr8[..., ::-1].astype(np.float64)
    floats[10, 10] = np.nan
    out = array_to_bgr(floats, BandScaling(scale='percentile'))
    assert out[10, 10].tolist() == [0, 0, 0]
    out[10, 10] = bgr8[10, 10]
    np.testing.assert_array_equal(out, bgr8)
    with pytest.raises(ValueError, match=r'\(H, W, 3\).*got shape \(2, 3, '
                       r'4, 5\)'):
        array_to_bgr(np.zeros((2, 3, 4, 5), np.uint8), plain)


def test_scaling_dict_is_checked(bgr8):
    with pytest.raises(ValueError, match=r"Unknown scaling key\(s\) "
                       r"\['band'\]"):
        image_loader(dict(band=(3, 2, 1)))
    with pytest.raises(TypeError,
                       match='scaling must be a BandScaling or a dict'):
        image_loader('percentile')
    with pytest.raises(BandScalingError, match='min_value and max_value'):
        load_image(bgr8, image_loader(dict(scale='minmax')))
