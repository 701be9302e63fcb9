"""The inference API runs FIANet: the config's test pipeline gives each
expression its phrase positions (ObjectPositionPhrases), which the text
encoder reads from the metainfo."""
import os.path as osp

import numpy as np
import pytest

from mmrrsis.apis import RRSISInferencer, WindowPredictor

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'tiny', 'fianet_swin-tiny_refsegrs-64x64.py')


def test_inferencer_reads_the_phrases():
    with pytest.warns(UserWarning, match='no checkpoint'):
        inferencer = RRSISInferencer(TINY, None)
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3),
                                              dtype=np.uint8)
    seen = []
    encoder = inferencer.model.text_encoder
    encoder.register_forward_hook(
        lambda m, args, kwargs, out: seen.extend(kwargs['phrase_tokens']),
        with_kwargs=True)
    out = inferencer(image, texts=['car on the road', 'long truck'])
    assert [p.shape for p in out['predictions']] == [(64, 64), (64, 64)]
    assert seen == [
        dict(object=[1, 4], position=[2, 3, 4]),
        dict(object=[2], position=None)
    ]


def test_window_predictor_reads_the_phrases():
    """The scene inferencer and the web app decode windows with the
    WindowPredictor: the text steps' records reach the encoder there too,
    and a window's logits equal the inferencer's on the same image."""
    with pytest.warns(UserWarning, match='no checkpoint'):
        inferencer = RRSISInferencer(TINY, None)
    model = inferencer.model
    seen = []
    model.text_encoder.register_forward_hook(
        lambda m, args, kwargs, out: seen.extend(kwargs['phrase_tokens']),
        with_kwargs=True)
    predictor = WindowPredictor(model, ['car on the road', 'long truck'])
    assert seen == [
        dict(object=[1, 4], position=[2, 3, 4]),
        dict(object=[2], position=None)
    ]
    image = np.random.default_rng(1).integers(0, 255, (64, 64, 3),
                                              dtype=np.uint8)
    masks = predictor.masks(predictor.probs(
        predictor.window_logits(image)))
    expected = inferencer(image, texts=['car on the road', 'long truck'])
    assert masks.shape == (2, 64, 64)
    for got, want in zip(masks, expected['predictions']):
        np.testing.assert_array_equal(got, want == 1)
