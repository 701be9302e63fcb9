"""RSRefSeg2 at tiny size (loss, predict, shared image features, LoRA
merge) and the full-size model's parameter counts."""
import pytest
import torch

from mmrrsis.models.utils.lora import count_parameters

TINY = 'rsrefseg2_tiny'
FULL = 'rsrefseg2_sam2.1-l_siglip2-so400m'
TEXTS = ('the white car parked on the left side of the road',
         'building along the road', 'long truck')

# trainable, but not reached by a training step: the eval-time fallback's
# IoU head, the object-score head, the point-prompt embeddings, the per-pixel
# logit scale the recipe does not use, and the LoRA of SigLIP's pooling head
# (computed and discarded by the reference, not computed here)
NO_GRADIENT = ('decode_head.mask_decoder.iou_prediction_head.',
               'decode_head.mask_decoder.pred_obj_score_head.',
               'decode_head.prompt_encoder.no_mask_embed.',
               'decode_head.prompt_encoder.point_embed.',
               'decode_head.prompt_encoder.not_a_point_embed.',
               'decode_head.pixel_logit_', 'vision_encoder.siglip.head.')


@pytest.fixture(scope='module')
def tiny(helpers):
    return helpers.build_model(helpers.model_cfg(TINY))


def _images(batch, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, 64, 64, generator=gen)


def test_loss_every_part_and_gradients(tiny, helpers):
    tiny.train()
    tiny.zero_grad()
    samples = helpers.make_samples(TEXTS[:2])
    losses = tiny.loss(_images(2), samples)
    assert set(losses) == {
        'decode.loss_ce', 'decode.loss_dice', 'decode.loss_query_separation',
        'decode.loss_mask_text_contrast'
    }
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    without = sorted(n for n, p in tiny.named_parameters()
                     if p.requires_grad and p.grad is None)
    assert without and all(n.startswith(NO_GRADIENT) for n in without)
    # the towers are frozen except their adapters
    for name, p in tiny.named_parameters():
        if name.startswith(('backbone.sam.', 'vision_encoder.siglip.',
                            'text_encoder.siglip.')):
            assert p.requires_grad == ('.lora_' in name), name
    assert tiny.text_encoder.logit_scale.grad is not None
    assert tiny.backbone.no_mem_embed.grad is not None


def test_predict_uses_the_sigmoid_rule(tiny, helpers):
    tiny.eval()
    samples = helpers.make_samples(TEXTS[:2], ori_shape=(80, 72))
    with torch.no_grad():
        out = tiny.predict(_images(2), samples)
        logits = tiny.encode_decode(_images(2), [s.metainfo for s in samples])
    assert logits.shape == (2, 1, 64, 64)
    for sample in out:
        probs = sample.seg_logits.data
        mask = sample.pred_sem_seg.data
        assert probs.shape == mask.shape == (1, 80, 72)
        assert ((probs > 0.5).float() == mask).all()
        assert 0 <= probs.min() and probs.max() <= 1
    probs = tiny.predict_probs(logits)
    assert torch.equal(probs, logits.sigmoid())
    mask = tiny.probs_to_mask(probs)
    assert mask.dtype == torch.bool and mask.shape == (2, 64, 64)
    assert torch.equal(mask, logits[:, 0] > 0)
    # a no-target score above 0.5 empties that sample's mask only
    emptied = tiny.probs_to_mask(torch.ones_like(probs),
                                 torch.tensor([0.9, 0.1]))
    assert not emptied[0].any() and emptied[1].all()


def test_image_features_are_encoded_once_for_every_expression(tiny):
    tiny.eval()
    assert tiny.image_features_are_text_free
    image = _images(1, seed=3)
    with torch.no_grad():
        feats = tiny.encode_image(image)
        shared = tiny.decode_text(feats, tiny.encode_text(list(TEXTS)))
        each = tiny.encode_decode(
            image.expand(3, -1, -1, -1), [dict(text=t) for t in TEXTS])
    assert shared.shape == (3, 1, 64, 64)
    torch.testing.assert_close(shared, each, rtol=0, atol=1e-5)
    assert not torch.allclose(shared[0], shared[1])


def test_dynamic_multimask_is_a_switch(helpers):
    cfg = helpers.model_cfg(TINY)
    assert cfg['decode_head']['dynamic_multimask'] is True
    on = helpers.build_model(cfg, seed=1)
    cfg['decode_head']['dynamic_multimask'] = False
    off = helpers.build_model(cfg, seed=1)
    off.load_state_dict(on.state_dict())
    metas = [dict(text=t) for t in TEXTS]
    for model in (on, off):
        model.eval()
    with torch.no_grad():
        a = on.encode_decode(_images(3), metas)
        b = off.encode_decode(_images(3), metas)
    # random weights: unstable single masks, replaced in eval mode
    assert not torch.allclose(a, b)
    on.train()
    off.train()
    with torch.no_grad():
        torch.testing.assert_close(
            on.encode_decode(_images(3), metas),
            off.encode_decode(_images(3), metas))


def test_merge_lora_keeps_the_function(helpers):
    model = helpers.build_model(helpers.model_cfg(TINY), seed=2)
    with torch.no_grad():  # adapters away from their zero start
        for name, p in model.named_parameters():
            if 'lora_B' in name:
                p.normal_(std=0.1)
    model.eval()
    metas = [dict(text=t) for t in TEXTS]
    with torch.no_grad():
        before = model.encode_decode(_images(3), metas)
        merged = model.merge_lora()
        after = model.encode_decode(_images(3), metas)
    # SAM 2: 5 blocks x (qkv, proj) + 4 neck convs; SigLIP vision: 2 layers
    # x 4 + the pooling head's 3; SigLIP text: 2 x 4 + its head
    assert merged == 14 + 11 + 9
    assert not any('lora_' in k or 'base_layer' in k
                   for k in model.state_dict())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
    # and such weights load into the config built with lora_merged=True
    plain = helpers.build_model(dict(helpers.model_cfg(TINY),
                                     lora_merged=True))
    plain.load_state_dict(model.state_dict(), strict=True)


def test_full_model_counts_match_the_reference(helpers):
    from mmrrsis.models.text_encoders import SiglipTextEncoder
    cfg = helpers.model_cfg(FULL)
    cfg['text_encoder'] = SiglipTextEncoder.offline_cfg(cfg['text_encoder'])
    with torch.device('meta'):
        model = helpers.build_model(cfg)
    counts = model.parameter_counts()
    # KyanChen/RSRefSeg2's model, counted from its code (reference keys)
    assert counts['total'] == (1_447_126_199, 97_867_223)
    assert counts['prompter'] == (82_773_312, 82_773_312)
    assert counts['text_encoder'][0] == 711_801_074
    assert counts['vision_encoder'][0] == 432_965_568
    lora = sum(p.numel() for n, p in model.named_parameters()
               if '.lora_' in n)
    assert lora == 10_872_320
    assert count_parameters(model) == counts['total']


def test_gradient_checkpointing_keeps_loss_and_gradients(helpers):
    cfg = helpers.model_cfg(TINY)
    plain = helpers.build_model(cfg, seed=3)
    for tower in ('text_encoder', 'backbone', 'vision_encoder'):
        cfg[tower]['with_cp'] = True
    cp = helpers.build_model(cfg, seed=3)
    cp.load_state_dict(plain.state_dict())
    samples = helpers.make_samples(TEXTS[:2])
    grads = []
    for model in (plain, cp):
        model.train()
        losses = model.loss(_images(2, seed=5), samples)
        sum(losses.values()).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters()
                      if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, rtol=1e-4,
                                   atol=1e-6)
