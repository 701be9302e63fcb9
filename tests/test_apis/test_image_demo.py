"""demo/image_demo.py draws the predicted mask and the expression."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'image_demo', osp.join(ROOT, 'demo', 'image_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_image_demo(tmp_path, refsegrs_root, lavt_tiny_ckpt, capsys):
    demo = load_demo()
    img = osp.join(refsegrs_root, 'images', '0.tif')
    out, mask_out = str(tmp_path / 'out.png'), str(tmp_path / 'mask.png')
    demo.main([
        img, 'the gray car', LAVT_TINY, lavt_tiny_ckpt, '--out-file', out,
        '--mask-file', mask_out, '--device', 'cpu'
    ])
    drawn = cv2.imread(out)
    h, w = cv2.imread(img).shape[:2]
    # the image, then a white band with the expression
    assert drawn.shape[1] == w and drawn.shape[0] > h
    band = drawn[h:]
    assert (band == 255).mean() > 0.5 and (band < 100).any()
    mask = cv2.imread(mask_out, cv2.IMREAD_UNCHANGED)
    assert mask.shape == (h, w)
    assert set(np.unique(mask).tolist()) <= {0, 255}
    # where the mask is set, the drawing is tinted red (BGR: last channel)
    original = cv2.imread(img)
    inside = mask == 255
    if inside.any():
        assert (drawn[:h][inside][:, 2].astype(int) >=
                original[inside][:, 2].astype(int)).mean() > 0.9
    assert 'the gray car' in capsys.readouterr().out


def test_image_demo_bad_input(tmp_path, refsegrs_root, lavt_tiny_ckpt):
    demo = load_demo()
    img = osp.join(refsegrs_root, 'images', '0.tif')
    with pytest.raises(SystemExit, match='empty'):
        demo.main([img, ' ', LAVT_TINY, lavt_tiny_ckpt])
    with pytest.raises(SystemExit, match='not found'):
        demo.main([str(tmp_path / 'x.tif'), 'a car', LAVT_TINY,
                   lavt_tiny_ckpt])
    with pytest.raises(SystemExit, match='is a directory'):
        demo.main([str(tmp_path), 'a car', LAVT_TINY, lavt_tiny_ckpt])


def test_image_demo_bands_and_scaling(tmp_path, refsegrs_root,
                                      lavt_tiny_ckpt):
    """A uint16 blue, green, red, NIR GeoTIFF stops with one error line
    without flags; with --bands and --scale minmax the drawing and mask
    equal those of the 8-bit tile."""
    import rasterio
    demo = load_demo()
    img = osp.join(refsegrs_root, 'images', '0.tif')
    bgr = cv2.imread(img)
    data = 100 + 15 * np.concatenate([bgr, bgr[..., 1:2]], -1).astype(
        np.uint16)
    tif = str(tmp_path / 'bgrn16.tif')
    with rasterio.open(tif, 'w', driver='GTiff', width=64, height=64,
                       count=4, dtype='uint16', crs='EPSG:32632',
                       transform=rasterio.transform.from_origin(
                           5e5, 5e6, 1., 1.)) as dst:
        dst.write(data.transpose(2, 0, 1))
    common = [LAVT_TINY, lavt_tiny_ckpt, '--device', 'cpu']
    with pytest.raises(SystemExit, match=r'^error: .*bgrn16.tif is uint16 '
                       r'with 4 band'):
        demo.main([tif, 'the gray car'] + common)
    with pytest.raises(SystemExit, match='--percentiles needs --scale'):
        demo.main([tif, 'the gray car'] + common + ['--percentiles', '1',
                                                    '99'])
    outputs = {}
    for name, path, flags in (
            ('rgb8', img, []),
            ('u16', tif, ['--bands', '3', '2', '1', '--scale', 'minmax',
                          '--min', '100', '--max', str(100 + 15 * 255)])):
        out, mask = str(tmp_path / f'{name}.png'), str(tmp_path /
                                                       f'{name}_mask.png')
        demo.main([path, 'the gray car'] + common +
                  ['--out-file', out, '--mask-file', mask] + flags)
        outputs[name] = (cv2.imread(out), cv2.imread(mask))
    np.testing.assert_array_equal(outputs['u16'][0], outputs['rgb8'][0])
    np.testing.assert_array_equal(outputs['u16'][1], outputs['rgb8'][1])
    # the drawing shows the tile itself, so the comparison can fail
    assert (outputs['rgb8'][0][:64] != 255).any()
