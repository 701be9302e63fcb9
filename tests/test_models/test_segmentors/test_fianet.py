"""The tiny FIANet as a segmentor: a real loss (every trainable parameter
gets a gradient) and a real predict, its phrase positions from the
samples' metainfo."""
import torch

from mmrrsis.datasets.transforms import ObjectPositionPhrases

TINY = 'tiny/fianet_swin-tiny_refsegrs-64x64.py'
# the second expression has no object word, the third no spatial phrase
TEXTS = ('car on the road', 'the white shape near the left edge',
         'long truck')


def samples(helpers, texts=TEXTS, **kwargs):
    split = ObjectPositionPhrases(lexicon='synthetic', sentence_split=False)
    result = helpers.make_samples(texts, **kwargs)
    for sample, text in zip(result, texts):
        sample.set_metainfo(split(dict(text=text)))
    return result


def test_loss_every_trainable_parameter_gets_a_gradient(helpers):
    model = helpers.build_model(helpers.leaf_model_cfg(TINY))
    model.train()
    data = model.data_preprocessor(
        dict(
            inputs=[
                torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
                for _ in TEXTS
            ],
            data_samples=samples(helpers)), True)
    assert data['data_samples'][1].phrase_tokens['object'] == []
    losses = model(**data, mode='loss')
    assert set(losses) == {
        'decode.loss_ce', 'decode.loss_dice', 'decode.acc_seg'
    }
    sum(v for k, v in losses.items() if k.startswith('decode.loss')
        ).backward()
    fusion = model.backbone.fusion
    frozen = {
        id(p)
        for m in fusion.stream_modules(3) + [
            a.object_embed for a in fusion.alignments
        ] for p in m.parameters()
    }
    for name, param in model.named_parameters():
        if id(param) in frozen:
            assert not param.requires_grad and param.grad is None, name
        elif param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, \
                name
    assert type(model.neck).__name__ == 'TextAwareMultiScaleEnhancement'


def test_predict_reads_the_phrases(helpers):
    model = helpers.build_model(helpers.leaf_model_cfg(TINY)).eval()
    inputs = helpers.make_inputs(batch=3)
    with torch.no_grad():
        out = model(inputs, samples(helpers, with_gt=False), mode='predict')
        assert out[0].pred_sem_seg.data.shape == (1, 64, 64)
        base = model._forward(inputs, samples(helpers, with_gt=False))
        # other phrase positions, other logits (the object pass moves)
        moved = samples(helpers, with_gt=False)
        moved[0].set_metainfo(
            dict(phrase_tokens=dict(object=[3], position=[2, 3, 4])))
        changed = model._forward(inputs, moved)
    assert torch.isfinite(base).all()
    assert not torch.allclose(changed[0], base[0])
    torch.testing.assert_close(changed[1:], base[1:])
