"""Graph convolution and LSCM's word graph context."""
import torch

from mmrrsis.models.utils import GraphConv, NodeLayerNorm, WordGraphContext
from mmrrsis.models.utils.multimodal_layers import l2_normalize


def test_node_layer_norm_ignores_padded_nodes():
    norm = NodeLayerNorm(3)
    x = torch.randn(1, 4, 3)
    padded = torch.cat([x, torch.full((1, 2, 3), 50.)], 1)
    mask = torch.tensor([[1., 1, 1, 1, 0, 0]])
    torch.testing.assert_close(norm(padded, mask)[:, :4], norm(x))
    out = norm(x).detach()
    assert abs(float(out.mean())) < 1e-5
    assert abs(float(out.var(unbiased=False)) - 1) < 1e-4


def test_graph_conv_propagates_along_the_edges():
    torch.manual_seed(0)
    conv = GraphConv(4)
    nodes = torch.randn(1, 3, 4)
    cut = torch.eye(3)[None]
    linked = cut.clone()
    linked[0, 0, 2] = 1.
    a, b = conv(nodes, cut), conv(nodes, linked)
    assert a.shape == (1, 3, 4) and (a >= 0).all()
    assert not torch.allclose(a, b)
    out = conv(nodes, linked, torch.tensor([[1., 1, 0]]))
    assert (out[0, 2] == 0).all()


def _context_inputs(words=3, pad=0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    mm = l2_normalize(torch.randn(1, 6, 4, 4, generator=gen))
    w = l2_normalize(torch.randn(1, words, 5, generator=gen), dim=2)
    graph = torch.full((1, words, words), 0.1)
    graph[0, 0, 1] = graph[0, 1, 0] = 1.
    mask = torch.ones(1, words)
    if pad:
        w = torch.cat([w, torch.zeros(1, pad, 5)], 1)
        mask = torch.cat([mask, torch.zeros(1, pad)], 1)
        graph = torch.nn.functional.pad(graph, (0, pad, 0, pad))
    return mm, w, mask, graph


def test_word_graph_context_padding_and_parse():
    torch.manual_seed(0)
    context = WordGraphContext(6, 5)
    mm, w, mask, graph = _context_inputs()
    out = context(mm, w, mask, graph)
    assert out.shape == (1, 6, 4, 4)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(1, 4, 4))
    padded = context(*_context_inputs(pad=2))
    torch.testing.assert_close(padded, out)
    other = graph.clone()
    other[0, 0, 1] = other[0, 1, 0] = 0.1
    other[0, 1, 2] = other[0, 2, 1] = 1.
    assert not torch.allclose(context(mm, w, mask, other), out)
