"""DiCoR's refiner U-Net."""
import torch

from mmrrsis.models.refiners import RefineUNet, prob_to_logits


def test_starts_as_identity_any_size():
    torch.manual_seed(0)
    unet = RefineUNet(in_channels=4, base_channels=4)
    x = torch.randn(2, 4, 50, 70)
    out = unet(x)
    assert out.shape == (2, 2, 50, 70) and (out == 0).all()
    # the output conv is zero again after init_weights without init_cfg
    torch.nn.init.ones_(unet.out_conv.weight)
    unet.init_weights()
    assert (unet.out_conv.weight == 0).all()
    torch.nn.init.normal_(unet.out_conv.weight)
    out = unet(x)
    out.sum().backward()
    assert out.abs().sum() > 0
    assert unet.encoders[0][0].conv.weight.grad is not None


def test_parameter_count_of_dicors_refiner():
    unet = RefineUNet(in_channels=4, base_channels=64)
    assert sum(p.numel() for p in unet.parameters()) == 31_038_274


def test_prob_to_logits_softmax_is_the_probability():
    prob = torch.tensor([0., 0.25, 0.5, 1.]).view(1, 1, 2, 2)
    logits = prob_to_logits(prob)
    assert logits.shape == (1, 2, 2, 2)
    expected = prob.clamp(1e-6, 1 - 1e-6)
    torch.testing.assert_close(logits.softmax(1)[:, 1:], expected)
