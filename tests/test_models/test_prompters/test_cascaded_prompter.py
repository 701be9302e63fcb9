import torch

from mmrrsis.models.prompters import CascadedPrompter
from mmrrsis.models.utils import TextFeatures


def _prompter():
    torch.manual_seed(0)
    return CascadedPrompter(
        text_dim=16, image_dim=24, prompt_dim=8, image_grid=4,
        num_queries=3, num_prompts=5, depth=2, num_heads=2, internal_dim=16,
        mlp_dim=16).eval()


def _text(batch=3, length=7):
    words = torch.randn(batch, length, 16)
    # the pooled vector lives in the image features' space (SigLIP's)
    return TextFeatures(words, torch.ones(batch, length),
                        torch.randn(batch, 24))


def test_shapes_and_the_dense_similarity():
    prompter = _prompter()
    text = _text()
    scale, bias = torch.tensor([0.7]), torch.tensor([-0.3])
    with torch.no_grad():
        out = prompter(torch.randn(3, 16, 24), text, scale, bias, 12)
    assert out.sparse.shape == (3, 5, 8)
    assert out.dense.shape == (3, 1, 12, 12)
    assert out.queries1.shape == out.queries2.shape == (3, 3, 16)
    assert out.image_map.shape == (3, 24, 4, 4)
    # a cosine similarity, scaled and shifted as SigLIP's logits
    low, high = -scale.exp() + bias, scale.exp() + bias
    assert out.dense.min() >= low - 1e-5 and out.dense.max() <= high + 1e-5


def test_one_image_for_many_expressions_and_grid_resize():
    prompter = _prompter()
    text = _text()
    image = torch.randn(1, 36, 24)  # a 6 x 6 grid: position table resized
    scale, bias = torch.zeros(1), torch.zeros(1)
    with torch.no_grad():
        shared = prompter(image, text, scale, bias, 12)
        each = prompter(image.expand(3, -1, -1), text, scale, bias, 12)
    torch.testing.assert_close(shared.sparse, each.sparse)
    torch.testing.assert_close(shared.dense, each.dense)
    assert shared.image_map.shape == (3, 24, 6, 6)


def test_text_and_image_spaces_must_agree():
    import pytest
    text = _text()
    text = TextFeatures(text.words, text.mask, torch.randn(3, 16))
    with pytest.raises(ValueError, match='one space'):
        _prompter()(torch.randn(3, 16, 24), text, torch.zeros(1),
                    torch.zeros(1), 12)


def test_upsampled_cosine_is_the_cosine_of_the_upsampled_map():
    from mmrrsis.models.prompters.cascaded_prompter import upsampled_cosine
    for h, w, size in [(4, 4, 16), (3, 5, 7), (1, 1, 4), (8, 8, 8)]:
        feat = torch.randn(2, 6, h, w, dtype=torch.float64)
        vec = torch.randn(2, 6, dtype=torch.float64)
        up = torch.nn.functional.interpolate(
            feat, size=(size, size), mode='bilinear', align_corners=True)
        expected = torch.einsum(
            'bchw,bc->bhw', up / up.norm(dim=1, keepdim=True),
            vec / vec.norm(dim=1, keepdim=True))
        torch.testing.assert_close(
            upsampled_cosine(feat, vec, size), expected, rtol=0, atol=1e-12)
