"""RMSIN's fusion: the intra-scale interaction, the stream formula, the
frozen last stage."""
import torch

from mmrrsis.models.backbones import LanguageAwareSwin
from mmrrsis.models.fusions import (
    BaseFusion,
    IntraScaleInteraction,
    RMSINFusion,
)


def test_intra_scale_interaction_weights_pixels_by_the_channel_mean():
    torch.manual_seed(0)
    intra = IntraScaleInteraction().eval()
    for blocks in intra.blocks:  # non-trivial BN statistics
        for bn in blocks.modules():
            if isinstance(bn, torch.nn.BatchNorm2d):
                bn.running_mean.normal_(0, 0.1)
                bn.running_var.uniform_(0.8, 1.2)
    x = torch.randn(2, 6 * 4, 5)  # a non-square 6x4 map
    out = intra(x, (6, 4))
    assert out.shape == x.shape
    # written out: mean over channels -> block, ReLU, block, sigmoid
    mean = x.mean(-1).reshape(2, 1, 6, 4)

    def block(b, m):
        return (b.pointwise.bn(b.pointwise.conv(m)) +
                b.serial.bn2(b.serial.conv2(b.serial.bn1(b.serial.conv1(m))))
                + b.identity(m))

    weight = torch.sigmoid(block(intra.blocks[1],
                                 block(intra.blocks[0], mean).relu()))
    torch.testing.assert_close(out, x * weight.reshape(2, 24, 1))
    # the layout matters: the same tokens read as 4x6 differ
    assert not torch.allclose(intra(x, (4, 6)), out)
    assert sum(p.numel() for p in intra.parameters()) == 38  # as RMSIN


def test_fuse_adds_both_gated_branches(helpers):
    torch.manual_seed(0)
    fusion = RMSINFusion(in_channels=[8, 16], text_channels=16,
                         gate_init='trunc_normal')
    assert isinstance(fusion, BaseFusion)
    x = torch.randn(2, 12, 16)
    text = helpers.make_text()
    fused, stream = fusion.fuse(1, x, (3, 4), text)
    pwam = fusion.pwams[1](x, text.words, text.mask)
    visual = fusion.intra[1](x, (3, 4))
    expected = (x + fusion.gates[1](pwam) * pwam +
                fusion.visual_gates[1](visual) * visual)
    torch.testing.assert_close(fused, pwam)
    torch.testing.assert_close(stream, expected)
    calls = []
    fusion.intra[1].register_forward_pre_hook(lambda *a: calls.append(1))
    fused2, same = fusion.fuse(1, x, (3, 4), text, with_stream=False)
    assert same is x and calls == []  # nothing only the stream needs
    torch.testing.assert_close(fused2, fused)
    assert fusion.stream_modules(1) == [
        fusion.gates[1], fusion.intra[1], fusion.visual_gates[1]
    ]


def test_last_stage_stream_modules_are_frozen_and_the_rest_trains(helpers):
    torch.manual_seed(0)
    backbone = LanguageAwareSwin(
        pretrain_img_size=64, embed_dims=16, window_size=4,
        depths=[1, 1, 1, 1], num_heads=[1, 2, 2, 4],
        fusion_cfg=dict(type='RMSINFusion', text_channels=16,
                        gate_init='trunc_normal'))
    backbone.init_weights()
    fusion = backbone.fusion
    last = {id(p) for m in fusion.stream_modules(3) for p in m.parameters()}
    for name, param in backbone.named_parameters():
        assert param.requires_grad == (id(param) not in last), name
    backbone.train()
    outs = backbone(torch.randn(2, 3, 64, 64), helpers.make_text())
    sum(o.square().mean() for o in outs).backward()
    for name, param in backbone.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, \
                name
        else:
            assert param.grad is None, name
    # the gates start as RMSIN's backbone initialises linear layers
    assert 0.015 < fusion.visual_gates[0][0].weight.std() < 0.025
