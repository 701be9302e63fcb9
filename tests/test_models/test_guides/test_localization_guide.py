"""DiCoR's localization guide: peak picking, geometry, ranker, boost."""
import pytest
import torch

from mmrrsis.models.guides import (
    LocalizationGuide,
    PeakPicker,
    candidate_geometry,
    masked_softmax,
)
from mmrrsis.models.utils import TextFeatures


def greedy_peaks(score, k=5, nms=2., min_peak=0.05):
    """The picking rule written out pixel by pixel (one (h, w) map)."""
    h, w = score.shape
    peaks = []
    for y in range(h):
        for x in range(w):
            window = score[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2]
            if score[y, x] >= window.max() - 1e-12 and \
                    score[y, x] >= min_peak:
                peaks.append((y, x))
    pool = peaks or [(y, x) for y in range(h) for x in range(w)]
    chosen = []
    while pool and len(chosen) < k:
        best = max(pool, key=lambda p: (score[p].item(), -p[0] * w - p[1]))
        chosen.append(best)
        pool = [p for p in pool
                if (p[0] - best[0])**2 + (p[1] - best[1])**2 > nms**2]
    return chosen


@pytest.mark.parametrize('seed', range(4))
def test_peak_picker_follows_the_greedy_rule(seed):
    gen = torch.Generator().manual_seed(seed)
    score = torch.rand(3, 1, 9, 11, generator=gen, dtype=torch.float64)
    score[1] = torch.round(score[1] * 4) / 4  # plateaus: ties
    score[2] *= 0.04  # nothing reaches min_peak: every pixel competes
    cands = PeakPicker()(score)
    assert cands.maps.shape == (3, 5, 9, 11)
    for b in range(3):
        expected = greedy_peaks(score[b, 0])
        found = [tuple(int(v) for v in c) for c, ok in zip(
            cands.centers[b], cands.peaks[b] > 0) if ok]
        assert found == expected[:len(found)]
        for k, (y, x) in enumerate(found):
            if cands.valid[b, k]:
                torch.testing.assert_close(
                    cands.maps[b, k].sum(), torch.tensor(1.,
                                                         dtype=torch.float64))
                assert cands.maps[b, k, y, x] > 0


def test_few_peaks_leave_invalid_candidates():
    score = torch.zeros(1, 1, 12, 12)
    score[0, 0, 2, 3] = 0.9
    score[0, 0, 9, 9] = 0.4
    cands = PeakPicker()(score)
    assert cands.valid.tolist() == [[True, True, False, False, False]]
    assert cands.centers[0, :2].tolist() == [[2., 3.], [9., 9.]]
    assert (cands.maps[0, 2:] == 0).all() and (cands.peaks[0, 2:] == 0).all()


def test_geometry_of_a_point_candidate():
    cands = PeakPicker(num_candidates=1)(
        torch.nn.functional.pad(torch.ones(1, 1, 1, 1), (4, 0, 0, 4)))
    geometry = candidate_geometry(cands)  # map 5x5, peak at (0, 4)
    cx, cy, area, sx, sy = geometry[0, 0].tolist()
    assert (cx, cy) == (1., -1.)
    assert area == pytest.approx(1 / 25)
    assert sx == pytest.approx(1e-6) and sy == pytest.approx(1e-6)


def test_masked_softmax_ignores_invalid_entries():
    logits = torch.tensor([[1., 5., 2.], [0., 0., 0.]])
    valid = torch.tensor([[True, False, True], [False, False, False]])
    weights = masked_softmax(logits, valid)
    assert weights[0, 1] == 0 and weights[0].sum() == pytest.approx(1.)
    assert (weights[1] == 0).all()


def guide(**kwargs):
    torch.manual_seed(0)
    return LocalizationGuide(
        in_channels=16, text_channels=12, evidence_channels=8,
        query_channels=8, route_channels=8, geometry_channels=4,
        **kwargs).eval()


def text_record():
    gen = torch.Generator().manual_seed(1)
    words = torch.randn(2, 7, 12, generator=gen)
    mask = torch.tensor([[1.] * 5 + [0.] * 2, [1.] * 3 + [0.] * 4])
    special = torch.zeros(2, 7, dtype=torch.bool)
    special[:, 0] = True
    special[0, 4] = special[1, 2] = True
    return TextFeatures(words, mask, special=special)


def test_guide_boosts_the_winner_and_reweights_the_words():
    model = guide()
    x = torch.randn(2, 16, 10, 10, generator=torch.Generator().manual_seed(2))
    text = text_record()
    with torch.no_grad():
        out, new_text, details = model(x, text)
    assert out.shape == x.shape and details['scores'].shape == (2, 5)
    winner = details['winner']
    for b in range(2):
        boost = out[b] / x[b]
        top = details['cand_maps'][b, winner[b]]
        # x' = x (1 + 0.5 M), M the winner's map scaled to max 1
        torch.testing.assert_close(
            boost, (1 + 0.5 * top / top.max()).expand_as(boost))
    scale = details['token_scale']
    # special tokens and padding keep scale 1 and so their words (up to the
    # layer norm)
    assert (scale[0, [0, 4, 5, 6]] == 1).all()
    assert (scale[1, [0, 2, 3]] == 1).all()
    assert new_text.mask is text.mask and new_text.special is text.special
    torch.testing.assert_close(
        new_text.words, model.text_norm(text.words * scale[..., None]))
    # without guide_text the words pass unchanged
    model.guide_text = False
    with torch.no_grad():
        _, same, details = model(x, text)
    assert same is text and 'token_scale' not in details


def test_candidates_from_a_given_map():
    model = guide()
    x = torch.randn(1, 16, 10, 10)
    prob = torch.zeros(1, 1, 40, 40)
    prob[0, 0, 8:12, 28:32] = 0.9  # one blob at 1/4 of the size
    with torch.no_grad():
        _, _, details = model(x, text_record().rows(slice(0, 1)),
                              candidate_prob=prob)
    assert details['cand_valid'][0, 0]
    y, x_ = details['cand_centers'][0, 0].tolist()
    assert 1 <= y <= 3 and 6 <= x_ <= 8


def test_gradients_reach_the_evidence_head_and_the_ranker():
    model = guide().train()
    x = torch.randn(2, 16, 10, 10)
    _, text, details = model(x, text_record())
    (details['evidence_logit'].sum() + details['scores'].sum() +
     text.words.sum()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
