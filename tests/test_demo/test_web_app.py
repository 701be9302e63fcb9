"""The web app through its API (gradio_client), as a program uses it."""
import os.path as osp

import gradio_client
import numpy as np
import pytest
import torch
from PIL import Image

from mmrrsis.apis import RRSISInferencer

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')

# file, expressions, R, G, B, scaling, low, high, min, max, opacity
DEFAULTS = (1, 2, 3, 'none', 2, 98, 0, 4095, 0.5)


@pytest.fixture(scope='module')
def client(web_app):
    return gradio_client.Client(web_app[0], verbose=False)


def _segment(client, path, text, *rest):
    return client.predict(
        gradio_client.handle_file(path), text, *(rest or DEFAULTS),
        api_name='/segment')


def test_masks_equal_rrsis_inferencer(client, web_app, tmp_path):
    _, app, _, tile = web_app
    overlay, legend, gallery, files, status, *_ = _segment(
        client, tile, 'car\nbuilding along the road')
    assert status.startswith('Done: 2 expression(s)')
    assert 'Random weights' in status
    assert legend.count('class="legend-item"') == 2 and 'px' in legend
    assert len(gallery) == 2
    assert osp.isfile(overlay)
    # the client downloads each file into a folder named by its hash:
    # order by file name (``<stem>_<k>_<slug>_mask``), not by full path
    pngs = sorted((f for f in files if f.endswith('_mask.png')),
                  key=osp.basename)
    tifs = sorted((f for f in files if f.endswith('_mask.tif')),
                  key=osp.basename)
    assert len(pngs) == 2 and len(tifs) == 2
    assert any(f.endswith('.geojson') for f in files)
    # the same weights in RRSISInferencer, on the same image
    ckpt = str(tmp_path / 'app.pth')
    torch.save(dict(state_dict=app.inferencer.model.state_dict()), ckpt)
    ref = RRSISInferencer(LGCE_TINY, ckpt, device='cpu',
                          slide=dict(crop_size=64, stride=42))
    expected = ref(tile, ['car', 'building along the road'])['predictions']
    for png, mask in zip(pngs, expected):
        got = np.asarray(Image.open(png))
        assert got.shape == (64, 64) == mask.shape
        np.testing.assert_array_equal(got == 255, mask == 1)


def test_bad_input_gives_a_message_and_the_server_keeps_serving(
        client, web_app, tmp_path):
    _, app, _, tile = web_app
    bad = tmp_path / 'broken.tif'
    bad.write_bytes(b'II*\x00this is not a tiff')
    out = _segment(client, str(bad), 'car')
    assert out[4].startswith('**Error:** Cannot read the image broken.tif')
    assert '/' not in out[4].split('broken.tif')[0]  # no server folder
    assert out[0] is None and out[3] == []
    out = _segment(client, tile, ' \n  ')
    assert 'Type at least one expression' in out[4]
    limit = app.max_pixels
    app.max_pixels = 1000
    try:
        out = _segment(client, tile, 'car')
    finally:
        app.max_pixels = limit
    assert "above this server's limit of 1,000" in out[4]
    # still serving
    assert _segment(client, tile, 'car')[4].startswith('Done: 1')


def test_uint16_scene_with_bands_and_area_in_square_metres(client, web_app):
    _, _, work, _ = web_app
    scene = osp.join(work, 'examples', 'scene_bgrn16.tif')
    out = _segment(client, scene, 'long truck\nroad', 3, 2, 1,
                   'percentile', 2, 98, 0, 4095, 0.3)
    assert out[4].startswith('Done: 2 expression(s)')
    assert 'm^2' in out[1]
    # without scaling the page says what the file needs
    out = _segment(client, scene, 'road', 3, 2, 1, 'none', 2, 98, 0, 4095,
                   0.3)
    assert 'uint16 with 4 band(s)' in out[4]


def test_opacity_redraws_without_running_the_model(web_app):
    _, app, _, tile = web_app
    out = app.segment(tile, 'car', *DEFAULTS, progress=lambda *a, **k: None)
    state = out[-1]
    assert state is not None and len(state['masks']) == 1
    light = app.restyle(state, 0.1)
    strong = app.restyle(state, 0.9)
    assert light.shape == strong.shape and light.shape[0] >= 512
    mask = state['masks'][0].repeat(light.shape[0] // 64, 0).repeat(
        light.shape[1] // 64, 1)
    assert (light[mask] != strong[mask]).any()
    assert (light[~mask] == strong[~mask]).mean() > 0.9


def test_checkpoint_that_cannot_load_stops_the_start(
        tmp_path, payload_checkpoint, web_app_module):
    """A checkpoint naming code to run stops the start with one error line
    (nothing runs); --unsafe-load starts it; a missing file is named."""
    module = web_app_module
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='random weights'):
        state = module.SceneInferencer(
            LGCE_TINY, None, device='cpu').model.state_dict()
    evil = payload_checkpoint(tmp_path / 'evil.pth', dict(state_dict=state))
    args = ['--work-dir', str(tmp_path / 'work'), '--device', 'cpu',
            '--no-examples']
    with pytest.raises(SystemExit,
                       match=r'^error: cannot start the app: .*unsafe-load'):
        module.create([LGCE_TINY, evil] + args)
    assert not payload_checkpoint.marker.exists()
    _, app, _ = module.create([LGCE_TINY, evil, '--unsafe-load'] + args)
    assert payload_checkpoint.marker.exists()
    assert torch.equal(app.inferencer.model.state_dict()[
        'decode_head.conv_seg.weight'], state['decode_head.conv_seg.weight'])
    with pytest.raises(SystemExit, match='error: .*missing.pth'):
        module.create([LGCE_TINY, str(tmp_path / 'missing.pth')] + args)


def test_precision_option(web_app_module, tmp_path):
    """--precision reaches the scene inferencer; fp16 without a GPU stops
    the start with one error line."""
    _, app, _ = web_app_module.create([
        LGCE_TINY, 'none', '--work-dir', str(tmp_path), '--device', 'cpu',
        '--precision', 'bf16', '--no-examples'])
    assert app.inferencer.precision == 'bf16'
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match='^error: .*CUDA'):
            web_app_module.create([
                LGCE_TINY, 'none', '--work-dir', str(tmp_path), '--device',
                'cpu', '--precision', 'fp16', '--no-examples'])
