import pytest
import torch
from mmengine.registry import DefaultScope

from mmrrsis.models.utils import takes_text

MODELS_UNDER_TEST = ['lavt_swin-tiny', 'lgce_swin-tiny']


@pytest.fixture(scope='module')
def built(helpers):
    return {
        name: helpers.build_model(helpers.model_cfg(name))
        for name in MODELS_UNDER_TEST
    }


def _train_batch(helpers):
    """Two random uint8 images with their data samples."""
    return dict(
        inputs=[
            torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=helpers.make_samples())


def _logits(model, inputs, texts, helpers):
    samples = helpers.make_samples(texts, with_gt=False)
    with torch.no_grad():
        return model._forward(inputs, samples)


@pytest.mark.parametrize('name', MODELS_UNDER_TEST)
def test_loss_and_gradients(name, built, helpers):
    model = built[name]
    model.train()
    model.zero_grad()
    data = model.data_preprocessor(_train_batch(helpers), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    loss = losses['decode.loss_ce']
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    # LAVT's zero-initialised gates get exactly zero gradients (see
    # LAVTFusionNeck); the last stage's gate is frozen
    closed_gates = {f'backbone.fusion.gates.{i}.{k}.weight'
                    for i in range(3) for k in (0, 2)}
    frozen = []
    for pname, param in model.named_parameters():
        if not param.requires_grad:
            frozen.append(pname)
            assert param.grad is None, pname
        elif pname in closed_gates:
            assert param.grad is not None and (param.grad == 0).all()
        else:
            assert param.grad is not None, pname
            assert param.grad.abs().sum() > 0, pname
    assert any(p.startswith('text_encoder.bert.embeddings.') for p in frozen)
    assert any(p.startswith('text_encoder.bert.encoder.layer.1.')
               for p in frozen)
    assert 'backbone.fusion.gates.3.0.weight' in frozen
    assert not any(p.startswith('text_encoder.bert.encoder.layer.0.')
                   for p in frozen)


@pytest.mark.parametrize('name', MODELS_UNDER_TEST)
def test_predict_whole_and_slide(name, built, helpers):
    model = built[name]
    model.eval()
    inputs = helpers.make_inputs()
    samples = helpers.make_samples(ori_shape=(80, 96), with_gt=False)
    with torch.no_grad():
        results = model(inputs, samples, mode='predict')
    assert len(results) == 2
    assert results[0].pred_sem_seg.shape == (80, 96)
    assert results[0].seg_logits.data.shape == (2, 80, 96)
    assert set(results[0].pred_sem_seg.data.unique().tolist()) <= {0, 1}
    whole = torch.stack([r.seg_logits.data for r in results])

    calls = []
    encode = model.text_encoder.forward

    def counting(texts):
        calls.append(list(texts))
        return encode(texts)

    model.text_encoder.forward = counting
    try:
        model.test_cfg = type(model.test_cfg)(
            mode='slide', crop_size=(64, 64), stride=(32, 32))
        with torch.no_grad():
            slide = model(
                inputs,
                helpers.make_samples(ori_shape=(80, 96), with_gt=False),
                mode='predict')
        # one crop covering the image: slide == whole
        torch.testing.assert_close(
            torch.stack([r.seg_logits.data for r in slide]), whole)
        calls.clear()
        model.test_cfg = type(model.test_cfg)(
            mode='slide', crop_size=(32, 32), stride=(16, 16))
        with torch.no_grad():
            slide = model(
                inputs, helpers.make_samples(with_gt=False), mode='predict')
        assert slide[0].seg_logits.data.shape == (2, 64, 64)
        assert len(calls) == 1  # 9 crops, text encoded once
    finally:
        model.text_encoder.forward = encode
        model.test_cfg = type(model.test_cfg)(mode='whole')


@pytest.mark.parametrize('name', MODELS_UNDER_TEST)
def test_output_depends_on_text_not_on_padding(name, built, helpers):
    model = built[name]
    model.eval()
    inputs = helpers.make_inputs()
    base = _logits(model, inputs, helpers.texts, helpers)
    assert base.shape == (2, 2, 16, 16)
    other = _logits(model, inputs, helpers.texts[::-1], helpers)
    assert not torch.allclose(base, other)
    # other token ids at padded positions: same logits
    ids, mask = model.text_encoder.tokenize(list(helpers.texts))
    assert (mask == 0).any()
    noisy = ids.clone()
    noisy[mask == 0] = torch.randint(5, 400, (int((mask == 0).sum()), ))
    metas = [s.metainfo for s in helpers.make_samples(with_gt=False)]
    with torch.no_grad():
        feats = model.text_encoder.encode(noisy, mask)
        logits = model.decode_head(model.extract_feat(inputs, feats))
    torch.testing.assert_close(logits, base)
    # and encode_decode with given text features matches predict's path
    with torch.no_grad():
        seg = model.encode_decode(inputs, metas)
    assert seg.shape == (2, 2, 64, 64)


def test_lgce_on_off(built, helpers):
    lavt, lgce = built['lavt_swin-tiny'], built['lgce_swin-tiny']
    lavt_params = sum(p.numel() for p in lavt.parameters())
    lgce_params = sum(p.numel() for p in lgce.parameters())
    neck_params = sum(p.numel() for p in lgce.neck.parameters())
    assert lgce_params == lavt_params + neck_params > lavt_params
    assert not lavt.with_neck
    # same weights outside the neck: only the neck changes the output
    missing, unexpected = lgce.load_state_dict(
        lavt.state_dict(), strict=False)
    assert unexpected == [] and missing
    assert all(k.startswith('neck.') for k in missing)
    lavt.eval()
    lgce.eval()
    inputs = helpers.make_inputs()
    a = _logits(lavt, inputs, helpers.texts, helpers)
    b = _logits(lgce, inputs, helpers.texts, helpers)
    assert a.shape == b.shape
    assert not torch.allclose(a, b)


def test_neck_list_and_plain_necks(helpers):
    cfg = helpers.model_cfg('lgce_swin-tiny')
    lgce = cfg['neck']
    rsfm = dict(
        type='LGCERSFMNeck', in_channels=lgce['in_channels'],
        text_channels=lgce['text_channels'], num_heads=(4, 8))
    cfg['neck'] = [lgce, rsfm]
    model = helpers.build_model(cfg).eval()
    assert len(model.neck) == 2
    out = _logits(model, helpers.make_inputs(), helpers.texts, helpers)
    assert out.shape == (2, 2, 16, 16)


def test_clear_errors(helpers):
    cfg = helpers.model_cfg('lavt_swin-tiny')
    cfg.pop('text_encoder')
    with pytest.raises(ValueError, match='text_encoder'):
        helpers.build_model(cfg)
    model = helpers.build_model(helpers.model_cfg('lavt_swin-tiny')).eval()
    samples = helpers.make_samples(with_gt=False)
    samples[1].set_metainfo(dict(text=None))
    with pytest.raises(ValueError, match="metainfo\\['text'\\]"):
        model(helpers.make_inputs(), samples, mode='predict')
    with pytest.raises(ValueError, match='data samples'):
        model.predict(helpers.make_inputs())
    with pytest.raises(ValueError, match='text features'):
        model.extract_feat(helpers.make_inputs())


def test_mix_config_under_mmseg_scope(helpers):
    """Fusion neck (late) on mmseg's ResNetV1c with our head, built by
    mmseg's registry in an mmseg-scope config."""
    import os.path as osp

    from mmengine import Config
    from mmseg.registry import MODELS as MMSEG_MODELS

    cfg = Config.fromfile(
        osp.join(helpers.configs, 'mix', 'fusion-late_r18_refsegrs-64x64.py'))
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports.imports == ['mmrrsis']
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MMSEG_MODELS.build(cfg.model)
        assert type(model).__name__ == 'RRSISEncoderDecoder'
        assert type(model.backbone).__name__ == 'ResNetV1c'
        assert not takes_text(model.backbone) and takes_text(model.neck)
        model.train()
        data = model.data_preprocessor(_train_batch(helpers), True)
        losses = model(**data, mode='loss')
        losses['decode.loss_ce'].backward()
    grads = [p.grad for p in model.neck.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    a = _logits(model, helpers.make_inputs(), helpers.texts, helpers)
    b = _logits(model, helpers.make_inputs(), helpers.texts[::-1], helpers)
    assert not torch.allclose(a, b)


def _register_text_head():
    from mmrrsis.models.decode_heads import BaseTextDecodeHead
    from mmrrsis.registry import MODELS

    class SentenceBiasHead(BaseTextDecodeHead):
        """Test head: logits of the stride-4 map plus a per-expression
        bias from the sentence vector (so the text reaches the head)."""

        def __init__(self, text_channels, **kwargs):
            super().__init__(**kwargs)
            self.text_bias = torch.nn.Linear(text_channels, self.num_classes)
            self.seen = []

        def forward(self, inputs, text):
            self.seen.append(text)
            x = self._transform_inputs(inputs)
            return self.cls_seg(x) + self.text_bias(
                text.pool('masked_mean'))[..., None, None]

    MODELS.register_module(
        name='_SentenceBiasHead', module=SentenceBiasHead, force=True)


def test_text_aware_decode_head_gets_the_record(helpers):
    from mmrrsis.models.utils import TextFeatures
    _register_text_head()
    cfg = helpers.model_cfg('lavt_swin-tiny')
    cfg['decode_head'] = dict(
        type='_SentenceBiasHead',
        text_channels=32,
        in_channels=32,
        in_index=0,
        channels=32,
        num_classes=2,
        loss_decode=dict(type='mmrrsis.WeightedCrossEntropyLoss'))
    model = helpers.build_model(cfg)
    assert takes_text(model.decode_head)
    model.train()
    losses = model(
        **model.data_preprocessor(_train_batch(helpers), True), mode='loss')
    losses['decode.loss_ce'].backward()
    assert model.decode_head.text_bias.weight.grad.abs().sum() > 0
    assert isinstance(model.decode_head.seen[-1], TextFeatures)
    model.eval()
    inputs = helpers.make_inputs()
    with torch.no_grad():
        results = model(inputs, helpers.make_samples(with_gt=False),
                        mode='predict')
    assert results[0].seg_logits.data.shape == (2, 64, 64)
    a = _logits(model, inputs, helpers.texts, helpers)
    b = _logits(model, inputs, helpers.texts[::-1], helpers)
    assert a.shape == (2, 2, 16, 16) and not torch.allclose(a, b)


def test_text_encoder_must_return_the_record(helpers):
    model = helpers.build_model(helpers.model_cfg('lavt_swin-tiny')).eval()
    encode = model.text_encoder.forward
    model.text_encoder.forward = lambda texts: tuple(encode(texts))[:2]
    with pytest.raises(TypeError, match='TextFeatures'):
        model.encode_text(list(helpers.texts))


def test_slide_inference_on_a_batch_of_different_sizes(helpers):
    """Tiles kept at their own size go through the data preprocessor
    (mmseg's asserts equal sizes) and slide inference in one batch; each
    prediction equals that of the tile alone."""
    from mmseg.structures import SegDataSample
    model = helpers.build_model(helpers.model_cfg('lavt_swin-tiny')).eval()
    model.test_cfg = type(model.test_cfg)(
        mode='slide', crop_size=(32, 32), stride=(32, 32))
    gen = torch.Generator().manual_seed(0)
    images = [
        torch.randint(0, 255, (3, 64, 64), generator=gen, dtype=torch.uint8),
        torch.randint(0, 255, (3, 96, 64), generator=gen, dtype=torch.uint8)
    ]

    def samples(imgs, texts):
        return [
            SegDataSample(
                metainfo=dict(
                    text=t, img_shape=i.shape[1:], ori_shape=i.shape[1:]))
            for i, t in zip(imgs, texts)
        ]

    with torch.no_grad():
        batch = model.test_step(
            dict(inputs=images, data_samples=samples(images, helpers.texts)))
        alone = [
            model.test_step(
                dict(inputs=[img], data_samples=samples([img], [text])))[0]
            for img, text in zip(images, helpers.texts)
        ]
    assert [r.pred_sem_seg.shape for r in batch] == [(64, 64), (96, 64)]
    assert [int(p) for p in batch[0].img_padding_size] == [0, 0, 0, 32]
    for got, expected in zip(batch, alone):
        torch.testing.assert_close(got.seg_logits.data,
                                   expected.seg_logits.data)


RMSIN_TINY = 'tiny/rmsin_swin-tiny_refsegrs-64x64.py'


def test_rmsin_loss_every_trainable_parameter_gets_a_gradient(helpers):
    """RMSIN's last-stage gates and intra-scale module are frozen (their
    result is unused); every other trainable parameter gets a gradient,
    so DDP needs no find_unused_parameters."""
    model = helpers.build_model(helpers.leaf_model_cfg(RMSIN_TINY))
    assert type(model.neck).__name__ == 'CrossScaleInteraction'
    model.train()
    data = model.data_preprocessor(_train_batch(helpers), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'decode.loss_ce', 'decode.loss_dice', 'decode.acc_seg'
    }
    # 0.9 x weighted CE + 0.1 x Dice summed over 2 samples x 2 classes
    assert 0 < losses['decode.loss_dice'] < 0.1 * 4
    sum(v for k, v in losses.items() if k.startswith('decode.loss')
        ).backward()
    fusion = model.backbone.fusion
    frozen_last = {
        id(p)
        for m in fusion.stream_modules(3) for p in m.parameters()
    }
    for name, param in model.named_parameters():
        if id(param) in frozen_last:
            assert not param.requires_grad and param.grad is None, name
        elif param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, \
                name
    assert frozen_last


def test_rmsin_predict_whole_and_slide(helpers):
    model = helpers.build_model(helpers.leaf_model_cfg(RMSIN_TINY)).eval()
    inputs = helpers.make_inputs()
    with torch.no_grad():
        whole = model(inputs, helpers.make_samples(
            ori_shape=(80, 96), with_gt=False), mode='predict')
        model.test_cfg = type(model.test_cfg)(
            mode='slide', crop_size=(32, 32), stride=(16, 16))
        slide = model(inputs, helpers.make_samples(with_gt=False),
                      mode='predict')
    assert whole[0].seg_logits.data.shape == (2, 80, 96)
    assert slide[1].pred_sem_seg.data.shape == (1, 64, 64)
    a = _logits(model, inputs, helpers.texts, helpers)
    b = _logits(model, inputs, helpers.texts[::-1], helpers)
    assert a.shape == (2, 2, 16, 16) and not torch.allclose(a, b)


RECURRENT_TINY = {
    'lscm': 'tiny/lscm_r18-tiny_refsegrs-64x64.py',
    'cmpc+': 'tiny/cmpc+_r18-tiny_refsegrs-64x64.py',
}


def _recurrent_batch(name, helpers, shape=(64, 64)):
    samples = helpers.make_samples()
    if name == 'lscm':
        helpers.add_parses(samples)
    return dict(
        inputs=[
            torch.randint(0, 255, (3, *shape), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)


@pytest.mark.parametrize('name', list(RECURRENT_TINY))
def test_lscm_cmpc_loss_every_parameter_gets_a_gradient(name, helpers):
    """One real loss of the tiny LSCM / CMPC+: the final map and every
    level supervised (0.6 / 0.7 and 0.1 each), every trainable parameter
    gets a gradient (no find_unused_parameters)."""
    model = helpers.build_model(
        helpers.leaf_model_cfg(RECURRENT_TINY[name])).train()
    levels = 4 if name == 'lscm' else 3
    data = model.data_preprocessor(_recurrent_batch(name, helpers), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_bce', 'decode.acc_seg'} | {
        f'decode.loss_bce_level{i}' for i in range(levels)
    }
    # sigmoid BCE summed over each 64 x 64 image: about 0.69 per pixel
    final = 0.6 if name == 'lscm' else 0.7
    assert 0.3 * final * 4096 < losses['decode.loss_bce'] < 2 * final * 4096
    assert 0 <= losses['decode.acc_seg'] <= 100
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for pname, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, pname


@pytest.mark.parametrize('name', list(RECURRENT_TINY))
def test_lscm_cmpc_predict_reads_the_text(name, helpers):
    model = helpers.build_model(
        helpers.leaf_model_cfg(RECURRENT_TINY[name])).eval()
    assert model.decode_head.out_channels == 1
    inputs = helpers.make_inputs()
    samples = helpers.make_samples(ori_shape=(80, 96), with_gt=False)
    if name == 'lscm':
        helpers.add_parses(samples)
    with torch.no_grad():
        results = model(inputs, samples, mode='predict')
    # one sigmoid map, thresholded at 0.5
    probs = results[0].seg_logits.data
    assert probs.shape == (1, 80, 96) and 0 <= probs.min() <= probs.max() <= 1
    pred = results[0].pred_sem_seg.data[0]
    assert torch.equal(pred, (probs[0] > 0.5).to(pred.dtype))
    swapped = helpers.make_samples(helpers.texts[::-1], with_gt=False)
    original = helpers.make_samples(with_gt=False)
    if name == 'lscm':
        helpers.add_parses(swapped)
        helpers.add_parses(original)
    with torch.no_grad():
        a = model._forward(inputs, original)
        b = model._forward(inputs, swapped)
    assert a.shape == (2, 1, 8, 8) and not torch.allclose(a, b)


def test_lscm_needs_the_parses_of_its_samples(helpers):
    model = helpers.build_model(
        helpers.leaf_model_cfg(RECURRENT_TINY['lscm'])).eval()
    assert model.text_encoder.meta_keys == ('parse', )
    inputs = helpers.make_inputs()
    with pytest.raises(ValueError, match='has no dependency parse.*'
                       'parse_expressions.py'):
        model._forward(inputs, helpers.make_samples(with_gt=False))
    # a caller with the texts only is told which transform makes the parse
    with pytest.raises(ValueError,
                       match='has no dependency parse.*LoadExpressionParse'):
        model.encode_text(list(helpers.texts))
