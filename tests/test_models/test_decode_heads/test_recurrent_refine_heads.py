"""LSCMHead and CMPCHead on random maps (RecurrentRefineHead)."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmrrsis.models.decode_heads import CMPCHead, LSCMHead
from mmrrsis.models.utils import TextFeatures


def _text(graph=True, sentence=True):
    torch.manual_seed(1)
    words = torch.randn(2, 4, 8)
    mask = torch.tensor([[1., 1, 1, 1], [1, 1, 0, 0]])
    words = words * mask[..., None]
    g = torch.full((2, 4, 4), 0.1) * mask[:, None] * mask[..., None]
    sentence = words.amax(1) if sentence else None
    if graph:
        return TextFeatures(words, mask, sentence, graph=g)
    return TextFeatures(words, mask, sentence)


def _feats():
    torch.manual_seed(0)
    return [torch.randn(2, 4, 16, 16), torch.randn(2, 6, 8, 8),
            torch.randn(2, 8, 8, 8), torch.randn(2, 10, 8, 8)]


def _samples():
    torch.manual_seed(2)
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64)))
        s.gt_sem_seg = PixelData(data=(torch.rand(1, 64, 64) > .5).long())
        samples.append(s)
    return samples


def _lscm(**kwargs):
    torch.manual_seed(0)
    return LSCMHead(in_channels=[4, 6, 8, 10], channels=12, vis_channels=6,
                    text_channels=8, feat_size=(8, 8), **kwargs)


def _cmpc():
    torch.manual_seed(0)
    return CMPCHead(in_channels=[6, 8, 10], channels=12, vis_channels=6,
                    text_channels=8, role_channels=5, feat_size=(8, 8))


@pytest.mark.parametrize('build,levels,final', [(_lscm, 4, .6),
                                                (_cmpc, 3, .7)])
def test_logits_and_weighted_losses(build, levels, final):
    head = build()
    logits = head(_feats(), _text())
    assert logits.shape == (2, 1, 8, 8)
    losses = head.loss(_feats(), _text(), _samples(), None)
    assert set(losses) == {'loss_bce', 'acc_seg'} | {
        f'loss_bce_level{i}' for i in range(levels)
    }
    # each item = its weight x the BCE summed over the 64 x 64 label
    label = torch.stack([s.gt_sem_seg.data[0] for s in _samples()])
    up = torch.nn.functional.interpolate(
        logits, (64, 64), mode='bilinear', align_corners=False)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        up[:, 0], label.float(), reduction='none').flatten(1).sum(1).mean()
    torch.testing.assert_close(losses['loss_bce'], final * bce)
    assert all(0 < losses[f'loss_bce_level{i}'] < 0.1 * 64 * 64 * 3
               for i in range(levels))
    assert head.refine_order == ((3, 2, 1, 0, 1, 2, 3) if levels == 4 else
                                 (0, 1, 2))


def test_lscm_reads_the_parse_graph():
    head = _lscm()
    text = _text()
    other = text.graph.clone()
    other[0, 0, 1] = other[0, 1, 0] = 1.
    a = head(_feats(), text)
    b = head(_feats(), text._replace(graph=other))
    assert torch.allclose(a[1], b[1]) and not torch.allclose(a[0], b[0])
    with pytest.raises(ValueError, match='use_parse=True'):
        head(_feats(), _text(graph=False))
    with pytest.raises(ValueError, match="sentence='max'"):
        head(_feats(), _text(sentence=False))


def test_levels_must_meet_on_one_grid():
    head = _lscm(lateral_strides=(1, 1, 1, 1))
    with pytest.raises(ValueError, match='different grids.*lateral_strides'):
        head(_feats(), _text())
    with pytest.raises(ValueError, match='must be 1 or 2'):
        _lscm(lateral_strides=(4, 1, 1, 1))
