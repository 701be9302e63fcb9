"""ConvLSTM with layer norm and peepholes (RRN / LSCM / CMPC)."""
import torch

from mmrrsis.models.utils import ConvLSTM, ConvLSTMCell


def test_cell_step_matches_the_equations():
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 4, feat_size=(2, 2), forget_bias=1.0)
    x = torch.randn(1, 3, 2, 2)
    c0, h0 = torch.randn(1, 4, 2, 2), torch.randn(1, 4, 2, 2)
    c, h = cell(x, (c0, h0))
    j, i, f, o = cell.conv(torch.cat([x, h0], 1)).chunk(4, 1)
    i = cell.norm_i(i + cell.peephole_i * c0)
    f = cell.norm_f(f + cell.peephole_f * c0)
    c1 = c0 * torch.sigmoid(f + 1) + torch.sigmoid(i) * torch.tanh(
        cell.norm_j(j))
    o = cell.norm_o(o + cell.peephole_o * c1)
    c1 = cell.norm_c(c1)
    torch.testing.assert_close(c, c1)
    torch.testing.assert_close(h, torch.sigmoid(o) * torch.tanh(c1))
    assert cell.conv.bias is None


def test_sequence_order_matters_and_any_grid_runs():
    torch.manual_seed(0)
    lstm = ConvLSTM(3, 4, feat_size=(4, 4))
    maps = [torch.randn(2, 3, 4, 4) for _ in range(3)]
    out = lstm(maps)
    assert out.shape == (2, 4, 4, 4)
    assert not torch.allclose(out, lstm(maps[::-1]))
    # another grid: the peepholes are resized
    assert lstm([torch.randn(1, 3, 6, 5)]).shape == (1, 4, 6, 5)
