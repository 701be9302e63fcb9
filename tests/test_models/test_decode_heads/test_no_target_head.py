"""NoTargetHead: the optional no-target branch, alone and in a segmentor."""
import pytest
import torch
from mmengine.structures import PixelData

from mmrrsis.models.decode_heads import NoTargetHead, no_target_labels


def _samples(helpers, no_target):
    samples = helpers.make_samples(texts=('a red bus', 'the car'),
                                   shape=(64, 64))
    for sample, flag in zip(samples, no_target):
        sample.set_metainfo(dict(no_target=flag))
    return samples


def test_forward_shapes_and_text(helpers):
    feats = helpers.make_feats([32, 64, 128, 256], size=16)
    text = helpers.make_text(channels=32)
    head = NoTargetHead(in_channels=[128, 256], in_index=[2, 3],
                        pooling='avgmax', text_channels=32)
    logits = head(feats, text)
    assert logits.shape == (2, )
    # the sentence vector takes part
    other = text._replace(words=text.words.flip(0))
    assert not torch.allclose(head(feats, other), logits)
    with pytest.raises(ValueError, match='one width per map'):
        NoTargetHead(in_channels=[1, 2], in_index=-1)
    with pytest.raises(ValueError, match='pooling'):
        NoTargetHead(in_channels=8, pooling='sum')


def test_labels_from_metainfo_else_empty_ground_truth(helpers):
    samples = _samples(helpers, [True, None])
    samples[1].gt_sem_seg = PixelData(data=torch.zeros(1, 64, 64).long())
    assert no_target_labels(samples).tolist() == [1., 1.]
    samples[1].gt_sem_seg.data[0, 3, 3] = 1
    assert no_target_labels(samples).tolist() == [1., 0.]
    samples[0].set_metainfo(dict(no_target=False))
    assert no_target_labels(samples).tolist() == [0., 0.]


def test_loss_is_relas_weighted_cross_entropy(helpers):
    """Two classes with weights (0.9, 1.1), mean over the weights, times
    0.1: the binary form computes the same number."""
    feats = helpers.make_feats([256], size=8)
    head = NoTargetHead(in_channels=256)
    samples = _samples(helpers, [True, False])
    losses = head.loss(feats, helpers.make_text(channels=16), samples)
    logit = head(feats, helpers.make_text(channels=16))
    two = torch.stack([torch.zeros_like(logit), logit], dim=1)
    expected = 0.1 * torch.nn.functional.cross_entropy(
        two, torch.tensor([1, 0]), weight=torch.tensor([0.9, 1.1]))
    torch.testing.assert_close(losses['loss_no_target'], expected)
    assert 0 <= float(losses['acc_no_target']) <= 1


def test_segmentor_trains_and_predicts_with_the_branch(helpers):
    cfg = helpers.model_cfg('lavt_swin-tiny')
    cfg['no_target_head'] = dict(type='NoTargetHead', in_channels=256)
    model = helpers.build_model(cfg)
    samples = _samples(helpers, [True, False])
    inputs = helpers.make_inputs(batch=2)
    losses = model.loss(inputs, samples)
    assert 'no_target.loss_no_target' in losses
    assert losses['no_target.loss_no_target'].requires_grad
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.no_target_head.mlp[0].weight.grad is not None
    # a branch sure of "no target" for every sample empties every mask
    model.eval()
    torch.nn.init.constant_(model.no_target_head.mlp[-1].bias, 50.)
    torch.nn.init.zeros_(model.no_target_head.mlp[-1].weight)
    with torch.no_grad():
        preds = model.predict(inputs, helpers.make_samples(
            texts=('a red bus', 'the car'), shape=(64, 64), with_gt=False))
    assert all(not p.pred_sem_seg.data.any() for p in preds)
