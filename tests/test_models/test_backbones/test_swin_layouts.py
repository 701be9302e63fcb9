"""Equal function: LAVT on mmseg's Swin and on mmpretrain's Swin."""
import pytest
import torch

from mmrrsis.models.backbones import (
    backbone_to_lavt_swin,
    lavt_swin_to_backbone,
    swin_backbone_state_dict,
)
from mmrrsis.models.converters import patch_merging_order

MMSEG = 'tiny/lavt_swin-tiny_refsegrs-64x64.py'
MMPRETRAIN = 'tiny/lavt_swin-mmpretrain-tiny_refsegrs-64x64.py'


def _randomised(model, seed):
    """Every parameter drawn anew (open gates, non-trivial norms), so no
    part of either model is an identity by initialisation."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=gen) * 0.2)
    return model


def _logits(model, helpers):
    samples = helpers.make_samples(with_gt=False)
    with torch.no_grad():
        return model._forward(helpers.make_inputs().double(), samples)


@pytest.fixture(scope='module')
def models(helpers):
    mmseg = helpers.build_model(helpers.leaf_model_cfg(MMSEG))
    mmpre = helpers.build_model(helpers.leaf_model_cfg(MMPRETRAIN))
    return (_randomised(mmseg, 0).double().eval(), mmpre.double().eval())


def test_same_logits_with_the_same_swin_weights(models, helpers):
    mmseg, mmpre = models
    assert type(mmseg.backbone).__name__ == 'LanguageAwareSwin'
    assert type(mmpre.backbone.encoder).__module__.startswith('mmpretrain.')
    converted = lavt_swin_to_backbone(mmseg.state_dict())
    mmpre.load_state_dict(converted, strict=True)
    expected = _logits(mmseg, helpers)
    torch.testing.assert_close(
        _logits(mmpre, helpers), expected, rtol=0, atol=1e-12)
    # and back
    back = backbone_to_lavt_swin(mmpre.state_dict())
    assert back.keys() == mmseg.state_dict().keys()
    # the test can fail: another Swin, or the original Swin's merging
    # order (which neither layout uses), changes the logits
    other = dict(converted)
    key = 'backbone.encoder.stages.1.downsample.reduction.weight'
    other[key] = patch_merging_order(other[key])
    mmpre.load_state_dict(other, strict=True)
    assert (_logits(mmpre, helpers) - expected).abs().max() > 1e-3
    mmpre.load_state_dict(converted, strict=True)


def test_backbone_state_dict_from_a_classification_checkpoint(models):
    """An mmpretrain classification file (``backbone.`` prefix, a head,
    only the last norm) and an mmseg-converted original file (final norm
    called ``norm``) give the same bare keys, loadable by both Swins."""
    mmseg, mmpre = models
    bare = {k[len('backbone.'):]: v for k, v in mmseg.state_dict().items()
            if k.startswith('backbone.') and not k.startswith(
                'backbone.fusion.')}
    classifier = {'backbone.' + k: v for k, v in bare.items()
                  if not k.startswith(('norm0', 'norm1', 'norm2'))}
    classifier['head.fc.weight'] = torch.zeros(10, 256)
    from_classifier = swin_backbone_state_dict(classifier)
    assert 'head.fc.weight' not in from_classifier
    assert set(from_classifier) == set(bare) - {
        f'norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')}
    original = {('norm.' + k[len('norm3.'):] if k.startswith('norm3.') else
                 k): v for k, v in from_classifier.items()}
    assert swin_backbone_state_dict(original).keys() == \
        from_classifier.keys()
    missing, unexpected = mmpre.backbone.encoder.load_state_dict(
        from_classifier, strict=False)
    assert not unexpected
    assert sorted(missing) == sorted(
        f'norm{i}.{p}' for i in range(3) for p in ('weight', 'bias'))
    with pytest.raises(KeyError, match='No Swin keys'):
        swin_backbone_state_dict({'head.fc.weight': torch.zeros(1)})
