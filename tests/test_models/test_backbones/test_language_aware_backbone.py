"""LanguageAwareBackbone around mmpretrain's Swin, SwinV2 and ConvNeXt."""
import pytest
import torch
from torch import nn

from mmrrsis.models.backbones import (
    ConvNeXtStages,
    LanguageAwareBackbone,
    SwinStages,
    SwinV2Stages,
    stage_structure_for,
)
from mmrrsis.models.utils import TextConditioned

TINY = {
    'swin':
    dict(
        type='mmpretrain.SwinTransformer',
        arch=dict(embed_dims=32, depths=[1, 1, 1, 1], num_heads=[1, 2, 4,
                                                                  8]),
        img_size=64,
        window_size=4,
        pad_small_map=True),
    'swinv2':
    dict(
        type='mmpretrain.SwinTransformerV2',
        arch=dict(
            embed_dims=32,
            depths=[1, 1, 1, 1],
            num_heads=[1, 2, 4, 8],
            extra_norm_every_n_blocks=0),
        img_size=64,
        window_size=4,
        pad_small_map=True),
    'convnext':
    dict(
        type='mmpretrain.ConvNeXt',
        arch=dict(depths=[1, 1, 1, 1], channels=[32, 64, 128, 256])),
}
STRUCTURES = {
    'swin': SwinStages,
    'swinv2': SwinV2Stages,
    'convnext': ConvNeXtStages
}


def build(family, gate_init='zeros', **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('fusion_cfg',
                      dict(type='PWAMFusion', text_channels=32,
                           gate_init=gate_init))
    return LanguageAwareBackbone(encoder=dict(TINY[family]), **kwargs).eval()


@pytest.mark.parametrize('family', list(TINY))
@pytest.mark.parametrize('size', [(64, 64), (64, 96)])
def test_stage_shapes_and_layout(family, size, helpers):
    model = build(family)
    assert isinstance(model, TextConditioned)
    assert type(model.structure) is STRUCTURES[family]
    # the encoder is mmpretrain's own class, unchanged
    assert type(model.encoder).__module__.startswith('mmpretrain.')
    assert model.fusion.in_channels == [32, 64, 128, 256]
    text = helpers.make_text(real=(6, 3), channels=32)
    outs = model(torch.randn(2, 3, *size), text)
    h, w = size
    assert [tuple(o.shape) for o in outs] == [
        (2, 32 * 2**i, h // 2**(i + 2), w // 2**(i + 2)) for i in range(4)
    ]
    # the last stage's gate is kept for checkpoints but frozen
    assert not any(p.requires_grad for p in model.fusion.gates[3].parameters())
    assert all(p.requires_grad for p in model.fusion.gates[0].parameters())


class _Recorder(nn.Module):
    """Stands in for a stage's blocks: records the map it sees."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def forward(self, x, *args):
        self.seen.append(tuple(x.shape))
        return x


@pytest.mark.parametrize('family', list(TINY))
def test_fusion_sits_after_the_blocks_before_the_downsampling(family,
                                                              helpers):
    """The fusion of stage i sees stage i's resolution and width (after
    its blocks, before the next merge), whichever end of a stage the family
    keeps its downsampling at."""
    model = build(family)
    calls = []
    fuse = model.fusion.fuse

    def recording(i, x, hw_shape, text, with_stream=True):
        calls.append((i, tuple(x.shape), tuple(hw_shape), with_stream))
        return fuse(i, x, hw_shape, text, with_stream=with_stream)

    model.fusion.fuse = recording  # what fuse_maybe_checkpointed calls
    model(torch.randn(1, 3, 64, 64), helpers.make_text(batch=1, real=(4, ),
                                                       channels=32))
    assert calls == [(i, (1, (16 // 2**i)**2, 32 * 2**i),
                      (16 // 2**i, 16 // 2**i), i < 3) for i in range(4)]


@pytest.mark.parametrize('family', list(TINY))
def test_output_is_the_norm_of_the_fused_map(family, helpers):
    """out_i = norm_i(F_i): with the language branch switched off (the
    fused map equals the stage's map when PWAM is bypassed), the output is
    the encoder's own normalised stage output."""
    model = build(family)
    model.fusion.fuse_maybe_checkpointed = lambda i, x, *args: (x, x)
    text = helpers.make_text(batch=1, real=(4, ), channels=32)
    image = torch.randn(1, 3, 64, 64)
    ours = model(image, text)
    encoder = model.encoder
    if family == 'convnext':
        encoder.gap_before_final_norm = False
    theirs = encoder(image)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


def test_clear_errors():
    with pytest.raises(TypeError, match='does not know how to run.*'
                       'StageStructure'):
        LanguageAwareBackbone(
            encoder=dict(type='mmpretrain.ResNet', depth=18),
            fusion_cfg=dict(type='PWAMFusion', text_channels=32))
    with pytest.raises(ValueError, match='pad_small_map=True'):
        LanguageAwareBackbone(
            encoder=dict(TINY['swin'], pad_small_map=False),
            fusion_cfg=dict(type='PWAMFusion', text_channels=32))
    with pytest.raises(ValueError, match='out_after_downsample'):
        LanguageAwareBackbone(
            encoder=dict(TINY['swin'], out_after_downsample=True),
            fusion_cfg=dict(type='PWAMFusion', text_channels=32))
    with pytest.raises(ValueError, match='"norm1".*out_indices'):
        LanguageAwareBackbone(
            encoder=dict(TINY['convnext'], out_indices=[0, 2, 3]),
            fusion_cfg=dict(type='PWAMFusion', text_channels=32))
    with pytest.raises(ValueError, match='stage widths'):
        LanguageAwareBackbone(
            encoder=dict(TINY['convnext']),
            fusion_cfg=dict(type='PWAMFusion', in_channels=[8, 8, 8, 8]))
    with pytest.raises(ValueError, match='outside'):
        LanguageAwareBackbone(
            encoder=dict(TINY['convnext']),
            out_indices=(0, 4),
            fusion_cfg=dict(type='PWAMFusion', text_channels=32))


def test_structure_lookup_follows_subclasses():
    from mmpretrain.models.backbones import ConvNeXt

    class MyConvNeXt(ConvNeXt):
        pass

    net = MyConvNeXt(arch=dict(depths=[1, 1, 1, 1],
                               channels=[8, 16, 32, 64]),
                     out_indices=[0, 1, 2, 3])
    assert type(stage_structure_for(net)) is ConvNeXtStages


def test_with_cp_gives_the_same_gradients(helpers):
    text = helpers.make_text(real=(6, 3), channels=32)
    image = torch.randn(2, 3, 64, 64)
    grads = []
    for with_cp in (False, True):
        model = build('convnext', gate_init='trunc_normal', with_cp=with_cp)
        model.train()
        sum(o.square().sum() for o in model(image, text)).backward()
        grads.append({n: p.grad for n, p in model.named_parameters()
                      if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name])


TINY_CONFIGS = [
    'tiny/lavt_swin-mmpretrain-tiny_refsegrs-64x64.py',
    'tiny/lavt_swinv2-tiny_refsegrs-64x64.py',
    'tiny/lavt_convnext-tiny_refsegrs-64x64.py',
]


@pytest.mark.parametrize('config', TINY_CONFIGS)
def test_tiny_twins_loss_and_predict(config, helpers):
    """One real loss step (every trainable parameter gets a gradient once
    the gates are open) and one predict, as for the other models."""
    cfg = helpers.leaf_model_cfg(config)
    cfg['backbone']['fusion_cfg']['gate_init'] = 'trunc_normal'
    model = helpers.build_model(cfg)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(
        dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
                     for _ in range(2)],
             data_samples=helpers.make_samples()), True)
    losses = model(**data, mode='loss')
    losses['decode.loss_ce'].backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, \
                name
    assert not model.backbone.fusion.gates[3][0].weight.requires_grad
    model.eval()
    with torch.no_grad():
        results = model(helpers.make_inputs(),
                        helpers.make_samples(ori_shape=(80, 96),
                                             with_gt=False), mode='predict')
        other = model._forward(helpers.make_inputs(),
                               helpers.make_samples(helpers.texts[::-1],
                                                    with_gt=False))
        base = model._forward(helpers.make_inputs(),
                              helpers.make_samples(with_gt=False))
    assert results[0].pred_sem_seg.shape == (80, 96)
    assert not torch.allclose(base, other)  # reads the expression


def test_encoder_init_cfg_loads_an_mmpretrain_classifier(tmp_path):
    """The configs' path: a classification checkpoint (keys under
    'backbone.', a head) through the encoder's own init_cfg with
    prefix='backbone.', as mmengine's PretrainedInit loads it."""
    from mmpretrain.models.backbones import ConvNeXt
    torch.manual_seed(1)
    source = ConvNeXt(**{k: v for k, v in TINY['convnext'].items()
                         if k != 'type'}, out_indices=[3])
    state = {'backbone.' + k: v for k, v in source.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(10, 256)
    path = str(tmp_path / 'classifier.pth')
    torch.save(dict(state_dict=state, meta=dict()), path)
    model = build('convnext')
    model.encoder.init_cfg = dict(
        type='Pretrained', checkpoint=path, prefix='backbone.')
    with torch.no_grad():
        model.encoder.norm0.weight.fill_(3.)
    model.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(model.encoder.state_dict()[key], value)
    # not in the file: keeps what it had (the classifier has norm3 only)
    assert (model.encoder.norm0.weight == 3.).all()
