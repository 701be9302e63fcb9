"""Layers shared by LSCM and CMPC+ (TF 'SAME' convolution, coordinates,
MUTAN fusion)."""
import torch
import torch.nn.functional as F

from mmrrsis.models.utils import MutanFusion, SameConv2d, spatial_coordinates
from mmrrsis.models.utils.multimodal_layers import tf_same_padding


def test_same_padding_puts_the_extra_pixel_after():
    assert tf_same_padding(80, 3, 2) == (0, 1)
    assert tf_same_padding(81, 3, 2) == (1, 1)
    assert tf_same_padding(40, 3, 1) == (1, 1)
    assert tf_same_padding(40, 1, 1) == (0, 0)
    conv = SameConv2d(2, 3, 3, stride=2)
    assert (conv.bias == 0).all()
    x = torch.randn(1, 2, 8, 8)
    out = conv(x)
    assert out.shape == (1, 3, 4, 4)
    # output (0, 0) sees input rows/columns 0..2 (no padding before)
    expected = F.conv2d(x[..., :3, :3], conv.weight, conv.bias)
    torch.testing.assert_close(out[..., :1, :1], expected)


def test_spatial_coordinates():
    coords = spatial_coordinates(2, 2, 4)
    assert coords.shape == (2, 8, 2, 4)
    # cell (row 1, column 0): x in [-1, -0.5], y in [0, 1]
    assert coords[0, :, 1, 0].tolist() == [-1, 0, -0.5, 1, -0.75, 0.5, 0.25,
                                           0.5]


def test_mutan_fusion_is_unit_length_and_reads_the_sentence():
    torch.manual_seed(0)
    mutan = MutanFusion(6, 5, num_heads=3)
    v, coords = torch.randn(2, 6, 4, 4), spatial_coordinates(2, 4, 4)
    s = torch.randn(2, 5)
    out = mutan(v, coords, s)
    assert out.shape == (2, 6, 4, 4)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 4, 4))
    assert not torch.allclose(out, mutan(v, coords, s.flip(0)))
    assert mutan.vis_trans.weight.shape == (18, 14, 1, 1)
