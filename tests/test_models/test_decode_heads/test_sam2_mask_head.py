import torch

from mmrrsis.models.decode_heads import SAM2MaskHead
from mmrrsis.models.prompters import PrompterOutput

VISION = dict(backbone_config=dict(), fpn_hidden_size=32)


def _head(**kwargs):
    torch.manual_seed(0)
    return SAM2MaskHead(
        VISION, dict(hidden_size=32, image_size=64, patch_size=16),
        dict(hidden_size=32, mlp_dim=64, num_attention_heads=2,
             iou_head_hidden_dim=16),
        loss_decode=[dict(type='SigmoidDiceLoss')], **kwargs)


def _prompts(batch):
    return PrompterOutput(
        torch.randn(batch, 9, 32), torch.randn(batch, 1, 16, 16),
        torch.randn(batch, 3, 8), torch.randn(batch, 3, 8),
        torch.randn(batch, 8, 4, 4))


def test_position_grid_is_sams():
    from transformers import Sam2Config, Sam2Model
    head = _head()
    model = Sam2Model(Sam2Config(
        prompt_encoder_config=dict(hidden_size=32, image_size=64,
                                   patch_size=16)))
    model.shared_image_embedding.positional_embedding.copy_(
        head.prompt_encoder.shared_embedding.positional_embedding)
    torch.testing.assert_close(head.position_grid(4, 4),
                               model.get_image_wide_positional_embeddings())


def test_one_image_many_prompts_and_the_loss(helpers):
    head = _head().eval()
    feats = [torch.randn(1, 32, 16, 16), torch.randn(1, 32, 8, 8),
             torch.randn(1, 32, 4, 4)]
    image = head.prepare(feats)
    assert image.high_res[0].shape == (1, 4, 16, 16)
    prompts = _prompts(3)
    with torch.no_grad():
        shared = head(image, prompts)
        each = head(head.prepare([f.expand(3, -1, -1, -1) for f in feats]),
                    prompts)
    assert shared.shape == (3, 1, 16, 16)
    torch.testing.assert_close(shared, each)
    assert head.predict_by_feat(shared, (64, 64)).shape == (3, 1, 64, 64)
    losses = head.loss(shared, prompts, helpers.make_samples(
        ('a', 'b', 'c')))
    assert set(losses) == {'loss_dice'}
