"""DiCoR's segmentor on the tiny configs of its four stages: one loss step
(every trainable parameter gets a gradient, frozen parts none and stay in
eval mode) and one predict; the prompt checks."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData

STAGES = {
    'coarse': 'tiny/dicor-coarse_swin-tiny_refsegrs-64x64.py',
    'refiner': 'tiny/dicor-refiner_swin-tiny_refsegrs-64x64.py',
    'guide': 'tiny/dicor-guide_swin-tiny_refsegrs-64x64.py',
    'joint': 'tiny/dicor-joint_swin-tiny_refsegrs-64x64.py',
}
LOSSES = {
    'coarse': {'decode.loss_ce', 'decode.loss_dice'},
    'joint': {'decode.loss_ce', 'decode.loss_dice'},
    'refiner': {'loss_refine_ce', 'loss_refine_dice', 'loss_refine_inhibit'},
    'guide': {'loss_loc_evidence', 'loss_loc_winner'},
}


def build(helpers, stage):
    cfg = helpers.leaf_model_cfg(STAGES[stage])
    if cfg.get('refiner'):
        cfg['refiner']['init_cfg'] = None
    return helpers.build_model(cfg)


def with_prompts(samples, valid=(True, True)):
    for sample, ok in zip(samples, valid):
        prob = torch.zeros(1, 16, 16)
        if ok:
            prob[0, 2:6, 8:12] = 0.9
            prob[0, 11:13, 2:4] = 0.6
        sample.prompt_prob = PixelData(data=prob)
        sample.set_metainfo(dict(prompt_valid=ok))
    return samples


def batch(helpers, valid=(True, True)):
    return dict(
        inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=with_prompts(helpers.make_samples(), valid))


@pytest.mark.parametrize('stage', list(STAGES))
def test_stage_loss_gradients_and_predict(stage, helpers):
    model = build(helpers, stage)
    assert model.stage == stage
    model.train()
    for path in model.frozen:
        assert not model.get_submodule(path).training, path
    data = model.data_preprocessor(batch(helpers), True)
    losses = model(**data, mode='loss')
    assert LOSSES[stage] <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith(
        ('loss', 'decode.loss')))
    assert torch.isfinite(total) and total > 0
    total.backward()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    for name, param in model.named_parameters():
        if name in trainable:
            assert param.grad is not None, name
        else:
            assert param.grad is None, name
    expected = dict(
        coarse='neck.', refiner='refiner.', guide='localization_guide.',
        joint='localization_guide.text_norm.')[stage]
    assert any(n.startswith(expected) for n in trainable)
    if stage != 'coarse':
        assert not any(n.startswith('backbone.') for n in trainable)
    model.eval()
    samples = helpers.make_samples(ori_shape=(80, 96), with_gt=False)
    with torch.no_grad():
        results = model(helpers.make_inputs(), samples, mode='predict')
    assert results[0].seg_logits.data.shape == (2, 80, 96)


def test_refinement_switch_and_coarse_logits(helpers):
    model = build(helpers, 'refiner').eval()
    torch.nn.init.normal_(model.refiner.out_conv.weight, std=0.1)
    inputs = helpers.make_inputs()
    metas = [s.metainfo for s in helpers.make_samples(with_gt=False)]
    with torch.no_grad():
        refined = model.encode_decode(inputs, metas)
        model.test_cfg['refine'] = False
        coarse = model.encode_decode(inputs, metas)
        small = model.coarse_logits(inputs, helpers.make_samples())
    assert small.shape == (2, 2, 16, 16)
    assert refined.shape == coarse.shape == (2, 2, 64, 64)
    delta = model.refiner(torch.cat(
        [inputs, coarse.softmax(1)[:, 1:]], 1)).detach()
    torch.testing.assert_close(refined, coarse + delta)


def test_invalid_prompts_are_left_out(helpers):
    model = build(helpers, 'guide').train()
    data = model.data_preprocessor(batch(helpers, (True, False)), True)
    seen = []
    forward = model.localization_guide.forward

    def spy(x, text, candidate_prob=None):
        seen.append(x.shape[0])
        return forward(x, text, candidate_prob)

    model.localization_guide.forward = spy
    model(**data, mode='loss')
    assert seen == [1]
    # a batch without a valid prompt: no update at all (single process)
    wrapper = build_optim_wrapper(
        model, dict(optimizer=dict(type='AdamW', lr=1e-2)))
    before = {n: p.clone() for n, p in model.named_parameters()}
    assert model.train_step(batch(helpers, (False, False)), wrapper) == {}
    for name, param in model.named_parameters():
        assert torch.equal(param, before[name]), name
    model.train_step(batch(helpers), wrapper)
    assert not torch.equal(
        model.localization_guide.ranker.visual_embed[0].weight,
        before['localization_guide.ranker.visual_embed.0.weight'])


def test_clear_errors(helpers):
    cfg = helpers.leaf_model_cfg(STAGES['coarse'])
    with pytest.raises(ValueError, match='stage must be one of'):
        helpers.build_model(dict(cfg, stage='fine'))
    with pytest.raises(ValueError, match='set model.refiner'):
        helpers.build_model(dict(cfg, stage='refiner'))
    with pytest.raises(ValueError, match='frozen entry "neck.nothing"'):
        helpers.build_model(dict(cfg, frozen=['neck.nothing']))
    model = build(helpers, 'refiner').train()
    data = model.data_preprocessor(
        dict(inputs=[torch.zeros(3, 64, 64, dtype=torch.uint8)] * 2,
             data_samples=helpers.make_samples()), True)
    with pytest.raises(ValueError, match='PromptBankDataset'):
        model(**data, mode='loss')
