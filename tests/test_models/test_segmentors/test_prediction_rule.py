"""The segmentor's one prediction rule (predict_probs / probs_to_mask, used
by predict and by the window predictor), the optional no-target branch,
and the late-fusion split (encode_image once, decode_text per
expression)."""
import pytest
import torch
from mmengine.config import Config
from mmseg.models.utils import resize
from test_models.test_reference_outputs import fill_weights

from mmrrsis.registry import MODELS


@MODELS.register_module(force=True)
class _FirstIsEmpty(torch.nn.Module):
    """A no-target branch that calls the first expression of a batch
    empty (logit +10) and the others not (-10)."""

    def forward(self, feats, text):
        scores = torch.full((text.words.shape[0], ), -10.)
        scores[0] = 10.
        return scores


def _predict(model, helpers, ori_shape=(80, 96)):
    samples = helpers.make_samples(ori_shape=ori_shape, with_gt=False)
    with torch.no_grad():
        return model.predict(helpers.make_inputs(), samples)


def test_probabilities_and_masks_follow_the_head(helpers):
    model = helpers.build_model(helpers.model_cfg('lavt_swin-tiny')).eval()
    logits = torch.randn(3, 2, 5, 7)
    probs = model.predict_probs(logits)
    assert probs.shape == (3, 1, 5, 7)
    torch.testing.assert_close(probs[:, 0], logits.softmax(1)[:, 1])
    mask = model.probs_to_mask(probs)
    assert mask.dtype == torch.bool and mask.shape == (3, 5, 7)
    assert torch.equal(mask, logits.argmax(1) == 1)
    assert model.mask_threshold == 0.5
    with pytest.raises(ValueError, match='1 .* or 2'):
        model.predict_probs(torch.randn(1, 3, 2, 2))

    cfg = helpers.model_cfg('lavt_swin-tiny')
    cfg['decode_head'].update(out_channels=1, threshold=0.4,
                              loss_decode=dict(type='CrossEntropyLoss',
                                               use_sigmoid=True))
    sigmoid = helpers.build_model(cfg).eval()
    one = torch.randn(2, 1, 4, 4)
    torch.testing.assert_close(sigmoid.predict_probs(one), one.sigmoid())
    assert sigmoid.mask_threshold == 0.4
    assert torch.equal(sigmoid.probs_to_mask(one.sigmoid())[:, None],
                       one.sigmoid() > 0.4)


@pytest.mark.parametrize('channels', [2, 1])
def test_predict_uses_the_rule(helpers, channels):
    cfg = helpers.model_cfg('lavt_swin-tiny')
    if channels == 1:
        cfg['decode_head'].update(out_channels=1, threshold=0.45,
                                  loss_decode=dict(type='CrossEntropyLoss',
                                                   use_sigmoid=True))
    model = helpers.build_model(cfg).eval()
    fill_weights(model)  # weights that predict both classes
    preds = _predict(model, helpers)
    metas = [s.metainfo for s in helpers.make_samples(with_gt=False)]
    with torch.no_grad():
        logits = resize(model.encode_decode(helpers.make_inputs(), metas),
                        size=(80, 96), mode='bilinear',
                        align_corners=model.align_corners)
    expected = model.probs_to_mask(model.predict_probs(logits))
    for pred, mask in zip(preds, expected):
        assert pred.pred_sem_seg.data.shape == (1, 80, 96)
        assert torch.equal(pred.pred_sem_seg.data[0].bool(), mask)
    assert 0 < expected.sum() < expected.numel()
    kept = preds[0].seg_logits.data
    assert kept.shape == (channels, 80, 96)
    if channels == 1:  # mmseg keeps the probabilities of a sigmoid head
        assert 0 <= kept.min() and kept.max() <= 1


def test_no_target_branch_empties_masks(helpers):
    cfg = helpers.model_cfg('lavt_swin-tiny')
    cfg['no_target_head'] = dict(type='_FirstIsEmpty')
    model = helpers.build_model(cfg).eval()
    plain = helpers.build_model(helpers.model_cfg('lavt_swin-tiny')).eval()
    fill_weights(model)
    fill_weights(plain)
    preds, reference = _predict(model, helpers), _predict(plain, helpers)
    assert not preds[0].pred_sem_seg.data.any()
    assert reference[0].pred_sem_seg.data.any()
    assert torch.equal(preds[1].pred_sem_seg.data,
                       reference[1].pred_sem_seg.data)
    # sliding windows: empty only when every window says so
    model.test_cfg = type(model.test_cfg)(
        mode='slide', crop_size=(32, 32), stride=(32, 32))
    slide = _predict(model, helpers, ori_shape=(64, 64))
    assert not slide[0].pred_sem_seg.data.any()
    assert slide[1].pred_sem_seg.data.any()
    # blending: the empty sample votes background with a margin
    logits = torch.randn(2, 2, 3, 3)
    voted = model.no_target_logits(logits, torch.tensor([0.9, 0.1]))
    assert torch.equal(voted[1], logits[1])
    assert (voted[0, 0] == 20).all() and (voted[0, 1] == -20).all()
    assert model.no_target_logits(logits, None) is logits
    probs = model.predict_probs(logits)
    assert not model.probs_to_mask(probs, torch.tensor([0.9, 0.1]))[0].any()


def test_late_fusion_encodes_the_image_once(helpers):
    from mmengine.registry import DefaultScope
    mix = Config.fromfile(
        f'{helpers.configs}/mix/fusion-late_r18_refsegrs-64x64.py').model
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(mix.to_dict()).eval()
    assert model.image_features_are_text_free
    image = helpers.make_inputs(batch=1)
    texts = list(helpers.texts) + ['a tree']
    metas = [dict(text=t, img_shape=(64, 64)) for t in texts]
    calls = []
    backbone_forward = model.backbone.forward
    model.backbone.forward = lambda x: calls.append(x.shape) or \
        backbone_forward(x)
    with torch.no_grad():
        feats = model.encode_image(image)
        text = model.encode_text(texts)
        logits = model.decode_text(feats, text, metas)
        assert calls == [(1, 3, 64, 64)]  # once for three expressions
        expected = model.encode_decode(image.expand(3, -1, -1, -1), metas)
    assert logits.shape == (3, 2, 64, 64)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(logits[0], logits[1])

    early = helpers.build_model(helpers.model_cfg('lavt_swin-tiny'))
    assert not early.image_features_are_text_free
    with pytest.raises(ValueError, match='encode_decode per expression'):
        early.encode_image(image)
