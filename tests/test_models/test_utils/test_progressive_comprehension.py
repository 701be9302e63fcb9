"""CMPC+'s word roles, relation graph and text-guided exchange."""
import torch

from mmrrsis.models.utils import (
    SpatialRelationGraph,
    TextGuidedExchange,
    WordRoleClassifier,
)
from mmrrsis.models.utils.progressive_comprehension import weighted_word_sum


def test_word_roles_sum_to_one_on_real_words():
    torch.manual_seed(0)
    roles = WordRoleClassifier(5, 7)
    words = torch.randn(2, 4, 5)
    mask = torch.tensor([[1., 1, 1, 1], [1, 1, 0, 0]])
    p = roles(words, mask)
    assert p.shape == (2, 4, 4)
    torch.testing.assert_close(p.sum(-1), mask)
    sentence = weighted_word_sum(p[..., 0] + p[..., 1], words * mask[...,
                                                                     None])
    torch.testing.assert_close(sentence.norm(dim=1), torch.ones(2))


def test_relation_graph_ignores_padded_words():
    torch.manual_seed(0)
    graph = SpatialRelationGraph(6, 5)
    mm = torch.randn(1, 6, 3, 3)
    words = torch.randn(1, 2, 5)
    relation = torch.tensor([[0.7, 0.2]])
    out = graph(mm, words, torch.ones(1, 2), relation)
    padded = graph(mm, torch.cat([words, torch.randn(1, 3, 5)], 1),
                   torch.tensor([[1., 1, 0, 0, 0]]),
                   torch.cat([relation, torch.rand(1, 3)], 1))
    torch.testing.assert_close(padded, out)
    assert not torch.allclose(
        graph(mm, words, torch.ones(1, 2), relation.flip(1)), out)


def test_text_guided_exchange():
    torch.manual_seed(0)
    exchange = TextGuidedExchange(4, 5, num_others=2)
    feats = [torch.randn(2, 4, 3, 3) for _ in range(3)]
    sentence = torch.randn(2, 5)
    out = exchange(feats[0], feats[1:], sentence)
    assert out.shape == (2, 4, 3, 3)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 3, 3))
    assert not torch.allclose(out, exchange(feats[0], feats[1:],
                                            sentence.flip(0)))
