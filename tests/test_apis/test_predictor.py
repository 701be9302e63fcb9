"""WindowPredictor: texts cleaned and encoded once, windows -> logits with
the model's own rule, late fusion encoding a window once, the no-target
branch, mixed precision, and sliding windows equal to the segmentor's."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmrrsis.apis import InferencePipeline, WindowPredictor, init_model
from mmrrsis.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
MIX = osp.join(ROOT, 'configs/mix/fusion-late_r18_refsegrs-64x64.py')
TEXTS = ['  the  car\u200b ', 'building along the road', 'a tree']


@pytest.fixture(scope='module')
def model(lavt_tiny_ckpt):
    return init_model(LAVT_TINY, lavt_tiny_ckpt, device='cpu')


def _window(seed=0, size=(64, 64)):
    return np.random.default_rng(seed).integers(
        0, 256, size + (3, ), dtype=np.uint8)


def test_texts_cleaned_without_an_image_and_encoded_once(model, monkeypatch):
    pipeline = InferencePipeline(model.cfg, keep_size=True, scaling={})
    read = []
    monkeypatch.setattr(pipeline, 'image', lambda img: read.append(img))
    encoded = []
    encode = model.encode_text
    monkeypatch.setattr(
        model, 'encode_text', lambda texts, metas=None: encoded.append(
            texts) or encode(texts, metas))
    predictor = WindowPredictor(model, TEXTS, pipeline)
    assert predictor.texts == ['the car', 'building along the road',
                               'a tree']
    assert read == [] and encoded == [predictor.texts]
    monkeypatch.undo()
    predictor.window_logits(_window())
    predictor.window_logits(_window(1))
    assert len(encoded) == 1  # not again per window


def test_logits_are_the_models_and_batches_agree(model):
    predictor = WindowPredictor(model, TEXTS)
    window = _window()
    logits = predictor.window_logits(window)
    assert logits.shape == (3, 2, 64, 64) and logits.dtype == np.float32
    inputs, meta = predictor.prepare(window[..., ::-1])
    metas = [dict(meta, text=t, img_shape=inputs.shape[2:])
             for t in predictor.texts]
    with torch.no_grad():
        direct = model.encode_decode(inputs.expand(3, -1, -1, -1), metas)
    np.testing.assert_array_equal(
        predictor.window_logits(window[..., ::-1].copy()), direct.numpy())
    one_by_one = WindowPredictor(model, TEXTS, batch_size=1)
    np.testing.assert_allclose(one_by_one.window_logits(window), logits,
                               rtol=1e-5, atol=1e-5)
    probs = predictor.probs(logits)
    assert probs.shape == (3, 64, 64)
    np.testing.assert_allclose(
        probs, torch.from_numpy(logits).softmax(1)[:, 1].numpy(), rtol=1e-6)
    assert np.array_equal(predictor.masks(probs), logits.argmax(1) == 1)
    with pytest.raises(ValueError, match='batch_size'):
        WindowPredictor(model, TEXTS, batch_size=0)


def test_late_fusion_encodes_each_window_once():
    model = init_model(MIX, device='cpu')
    pipeline = InferencePipeline(Config.fromfile(LAVT_TINY), keep_size=True,
                                 scaling={})
    predictor = WindowPredictor(model, TEXTS, pipeline, batch_size=2)
    assert model.image_features_are_text_free
    calls = []
    forward = model.backbone.forward
    model.backbone.forward = lambda x: calls.append(x.shape) or forward(x)
    logits = predictor.window_logits(_window())
    assert calls == [(1, 3, 64, 64)]  # one window, three expressions
    inputs, meta = predictor.prepare(_window())
    metas = [dict(meta, text=t, img_shape=inputs.shape[2:])
             for t in predictor.texts]
    with torch.no_grad():
        expected = model.encode_decode(inputs.expand(3, -1, -1, -1), metas)
    np.testing.assert_allclose(logits, expected.numpy(), rtol=1e-4,
                               atol=1e-4)


@MODELS.register_module(force=True)
class _SecondIsEmpty(torch.nn.Module):

    def forward(self, feats, text):
        scores = torch.full((text.words.shape[0], ), -10.)
        scores[1] = 10.
        return scores


def test_no_target_votes_background(lavt_tiny_ckpt):
    model = init_model(
        LAVT_TINY, lavt_tiny_ckpt, device='cpu',
        cfg_options={'model.no_target_head': dict(type='_SecondIsEmpty')})
    logits = WindowPredictor(model, TEXTS[:2]).window_logits(_window())
    assert (logits[1, 0] == 20).all() and (logits[1, 1] == -20).all()
    assert not (logits[0, 0] == 20).all()


def test_bf16_close_to_fp32_and_fp16_needs_cuda(model):
    fp32 = WindowPredictor(model, TEXTS).window_logits(_window())
    bf16 = WindowPredictor(model, TEXTS, precision='bf16')
    logits = bf16.window_logits(_window())
    assert logits.dtype == np.float32
    assert np.abs(logits - fp32).max() < 0.1 * np.abs(fp32).max()
    assert (bf16.masks(bf16.probs(logits)) ==
            (fp32.argmax(1) == 1)).mean() > 0.95
    with pytest.raises(ValueError, match='CUDA'):
        WindowPredictor(model, TEXTS, precision='fp16')
    with pytest.raises(ValueError, match='precision'):
        WindowPredictor(model, TEXTS, precision='int8')


def test_tile_logits_equal_the_segmentors_slide(model):
    predictor = WindowPredictor(model, TEXTS[1:2])
    tile = _window(size=(100, 150))
    inputs, meta = predictor.prepare(tile)
    tiled = predictor.tile_logits(inputs, (64, 64), (48, 48), meta)
    model.test_cfg = type(model.test_cfg)(
        mode='slide', crop_size=(64, 64), stride=(48, 48))
    try:
        with torch.no_grad():
            slide = model.slide_inference(
                inputs, [dict(meta, text=predictor.texts[0])])
    finally:
        model.test_cfg = type(model.test_cfg)(mode='whole')
    assert tiled.shape == (1, 2, 100, 150)
    assert torch.equal(tiled, slide)
