"""The web app under a bounded burst: 3 rounds of 20 parallel requests on
127.0.0.1, half of them through new clients: 10 different requests each
sent twice at once (rounds 1 and 3), and one request sent 20 times at once
(round 2). Each answer (overlay, mask PNG and GeoTIFF, GeoJSON) must be
the one-at-a-time answer of its own request: no failed download, no answer
of another request.

The tiny model's random weights give masks that differ by expression and
by tile (asserted), so a swapped answer would be caught. Equal requests in
flight at once are what broke downloads before: Gradio's cache names files
by content and name, and rewrote a file another client was downloading
("Too little data for declared Content-Length")."""
import json
import os.path as osp
from concurrent.futures import ThreadPoolExecutor

import gradio_client
import numpy as np
import pytest
import rasterio
from PIL import Image

from mmrrsis.datasets.synthetic import generate_scene

# R, G, B, scaling, low, high, min, max, opacity
REST = (1, 2, 3, 'none', 2, 98, 0, 4095, 0.5)
TEXTS = ('car', 'building along the road', 'tree', 'long truck',
         'road marking')
ROUNDS, PARALLEL = 3, 20


def _answer(client, request):
    """What a client gets for (tile, expression): arrays of every file."""
    tile, text = request
    overlay, _, gallery, files, status, *_ = client.predict(
        gradio_client.handle_file(tile), text, *REST, api_name='/segment')
    assert status.startswith('Done: 1 expression(s)'), status
    (png, ) = [f for f in files if f.endswith('_mask.png')]
    (tif, ) = [f for f in files if f.endswith('_mask.tif')]
    (vectors, ) = [f for f in files if f.endswith('.geojson')]
    with rasterio.open(tif) as src:
        mask_tif = src.read(1)
    with open(vectors) as f:
        features = json.load(f)['features']
    return dict(
        overlay=np.asarray(Image.open(overlay).convert('RGB')),
        png=np.asarray(Image.open(png)),
        tif=mask_tif,
        gallery=len(gallery),
        polygons=sorted(round(p['properties']['pixels'])
                        for p in features))


def _same(a, b) -> bool:
    return all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else
        a[k] == b[k] for k in a)


@pytest.fixture(scope='module')
def requests(web_app):
    url, app, work, _ = web_app
    if app.inferencer.crop_size != (64, 64):
        pytest.skip('the burst test assumes the tiny default model')
    tiles = []
    for k in range(2):
        path = osp.join(work, f'burst_tile{k}.png')
        Image.fromarray(generate_scene(
            64, np.random.default_rng([11, k])).image).save(path)
        tiles.append(path)
    return [(tile, text) for tile in tiles for text in TEXTS]


def test_burst_answers_are_the_one_at_a_time_answers(web_app, requests):
    url = web_app[0]
    shared = gradio_client.Client(url, verbose=False)
    expected = {r: _answer(shared, r) for r in requests}
    masks = {r: a['png'] for r, a in expected.items()}
    # masks differ by expression and by tile: a swap would be seen
    assert len({m.tobytes() for m in masks.values()}) == len(requests)
    assert all(0 < (m > 0).mean() < 1 for m in masks.values())

    def run(job):  # even jobs through the shared client, odd a new one
        i, request = job
        client = shared if i % 2 == 0 else gradio_client.Client(
            url, verbose=False)
        try:
            return request, _answer(client, request), None
        except Exception as e:  # counted below, with the reason
            return request, None, f'{type(e).__name__}: {e}'

    failed, wrong, right = [], [], 0
    pairs = [requests[i // 2] for i in range(PARALLEL)]
    rounds = [pairs, [requests[0]] * PARALLEL, pairs]
    assert len(rounds) == ROUNDS
    for jobs in rounds:
        with ThreadPoolExecutor(PARALLEL) as pool:
            for request, answer, error in pool.map(run, enumerate(jobs)):
                if error is not None:
                    failed.append(error)
                elif not _same(answer, expected[request]):
                    wrong.append(request)
                else:
                    right += 1
    assert not failed, failed[:3]
    assert not wrong, wrong[:3]
    assert right == ROUNDS * PARALLEL


def test_equal_requests_return_files_of_their_own(web_app, requests):
    """Gradio caches a returned file under its content hash and name: two
    requests returning equal files under one name would share (and
    rewrite) one cached file. Every file of a request has its own name."""
    _, app, _, _ = web_app
    tile, text = requests[0]
    answers = [
        app.segment(tile, text, *REST, progress=lambda *a, **k: None)
        for _ in range(2)
    ]
    names = []
    for overlay, _, gallery, files, status, _ in answers:
        assert status.startswith('Done'), status
        names.append({osp.basename(p) for p in
                      [overlay] + [g for g, _ in gallery] + list(files)})
        assert len(names[-1]) == 2 + len(files)
    assert not names[0] & names[1]
    # the same pictures and masks, under other names
    first, second = ([a[0]] + [p for p in a[3] if p.endswith('.png')]
                     for a in answers)
    assert len(first) == len(second) == 2  # overlay, mask
    for a, b in zip(first, second):
        np.testing.assert_array_equal(np.asarray(Image.open(a)),
                                      np.asarray(Image.open(b)))
    # the opacity slider draws into a new file too
    again = app.restyle_file(answers[0][-1], 0.2)
    assert osp.basename(again) not in names[0]
