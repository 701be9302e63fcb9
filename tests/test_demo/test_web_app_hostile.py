"""Hostile uploads to the web app, through its API (gradio_client) and its
library function: a VRT named .tif (raw bytes of a server file, or an
image on the server) is refused and nothing of the file it names comes
back; a damaged GeoTIFF gets a message naming the band and window; a
scene of absurd shape is refused by the page's size rule. The server's
folders never appear in a message."""
import os
import os.path as osp

import gradio_client
import hostile_rasters as hr
import pytest

# R, G, B, scaling, low, high, min, max, opacity
REST = (1, 2, 3, 'none', 2, 98, 0, 4095, 0.5)


@pytest.fixture(scope='module')
def client(web_app):
    return gradio_client.Client(web_app[0], verbose=False)


def _segment(client, path, text='car'):
    return client.predict(gradio_client.handle_file(path), text, *REST,
                          api_name='/segment')


def _no_secret_in(folder, secret: bytes):
    head = secret[:64]
    for dirpath, _, names in os.walk(folder):
        for name in names:
            with open(osp.join(dirpath, name), 'rb') as f:
                assert head not in f.read(), name


@pytest.mark.parametrize('name', ['vrt_raw', 'vrt_image'])
def test_vrt_upload_is_refused_and_nothing_comes_back(client, web_app,
                                                      hostile, name):
    _, app, work, _ = web_app
    path = hostile[name]
    overlay, legend, gallery, files, status, *_ = _segment(client, path)
    assert status.startswith(
        f'**Error:** Cannot read the image {osp.basename(path)}: refused, '
        'its content is a GDAL VRT')
    assert 'the web app never opens one' in status
    assert (overlay, legend, gallery, files) == (None, '', [], [])
    assert hr.SECRET_MARK.decode() not in status
    assert osp.dirname(path) not in status  # no server folder
    # the library function and the file check say the same
    out = app.segment(path, 'car', *REST, progress=lambda *a, **k: None)
    assert out[4] == status and out[0] is None and out[-1] is None
    assert 'GDAL VRT' in app.on_file(path)[-1]
    _no_secret_in(work, hostile['secret_bytes'])


def test_damaged_scene_is_a_message_naming_the_window(client, hostile):
    (r0, r1), (c0, c1) = hostile['damaged_block'].values()
    overlay, _, _, files, status, *_ = _segment(client, hostile['damaged'])
    assert status.startswith('**Error:** Cannot decode the scene '
                             'damaged.tif, band 1, rows ')
    assert f'rows {r0}-{r1}, columns {c0}-{c1}' in status
    assert '/' not in status.split('damaged.tif')[0]
    assert overlay is None and files == []
    status = _segment(client, hostile['truncated'])[4]
    assert 'truncated.tif' in status and 'the file is truncated' in status
    # still serving
    assert _segment(client, hostile['scene'])[4].startswith('Done')


def test_absurd_shape_meets_the_page_size_rule(client, hostile):
    status = _segment(client, hostile['sparse'])[4]
    assert status.startswith('**Error:** sparse.tif with 1 expression(s) '
                             'would compute 487,620,608 pixels')
    assert "above this server's limit of 100,000,000" in status
