"""SAM2ImageEncoder and SiglipVisionEncoder (mmrrsis/models/backbones/
sam2_image_encoder.py, siglip_vision_encoder.py): outputs, LoRA, and
pretrained weights loaded by init_weights from a local folder."""
import pytest
import torch

from mmrrsis.models.backbones import SAM2ImageEncoder, SiglipVisionEncoder

SAM2_VISION = dict(
    backbone_config=dict(
        hidden_size=8,
        embed_dim_per_stage=[8, 16, 32, 64],
        num_attention_heads_per_stage=[1, 2, 4, 8],
        blocks_per_stage=[1, 1, 2, 1],
        global_attention_blocks=[3],
        window_positional_embedding_background_size=[2, 2],
        window_size_per_stage=[4, 2, 2, 2],
        image_size=[64, 64]),
    backbone_channel_list=[64, 32, 16, 8],
    backbone_feature_sizes=[[16, 16], [8, 8], [4, 4]],
    fpn_hidden_size=32)
SIGLIP_VISION = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    image_size=32,
    patch_size=8)


def test_sam2_maps_and_no_memory_embedding():
    torch.manual_seed(0)
    encoder = SAM2ImageEncoder(SAM2_VISION).eval()
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        feats = encoder(images)
        encoder.no_mem_embed.fill_(1.)
        shifted = encoder(images)
    assert [tuple(f.shape) for f in feats] == [(2, 32, 16, 16),
                                              (2, 32, 8, 8), (2, 32, 4, 4)]
    torch.testing.assert_close(shifted[-1], feats[-1] + 1)
    torch.testing.assert_close(shifted[0], feats[0])


def test_sam2_lora_targets_and_pretrained(tmp_path):
    from transformers import Sam2Model

    from mmrrsis.models.backbones import sam2_config
    torch.manual_seed(1)
    source = Sam2Model(sam2_config(SAM2_VISION, dict(hidden_size=32,
                                                     image_size=64),
                                   dict(hidden_size=32)))
    source.save_pretrained(tmp_path)
    encoder = SAM2ImageEncoder(
        SAM2_VISION,
        pretrained=str(tmp_path),
        lora=dict(
            r=2,
            lora_alpha=2,
            target_modules=r'^(backbone\.blocks\.\d+\.attn\.(qkv|proj)|'
            r'neck\.convs\.\d+)$'))
    trainable = [n for n, p in encoder.named_parameters() if p.requires_grad]
    assert len(trainable) == 2 * (5 * 2 + 4) + 1  # A, B per layer; no_mem
    encoder.init_weights()
    assert torch.equal(encoder.sam.neck.convs[2].base_layer.weight,
                       source.vision_encoder.neck.convs[2].weight)
    assert torch.equal(encoder.no_mem_embed, source.no_memory_embedding)


def test_siglip_tokens_and_pretrained(tmp_path):
    from transformers import SiglipVisionConfig, SiglipVisionModel
    torch.manual_seed(2)
    source = SiglipVisionModel(SiglipVisionConfig(**SIGLIP_VISION))
    source.save_pretrained(tmp_path)
    encoder = SiglipVisionEncoder(SIGLIP_VISION, pretrained=str(tmp_path))
    encoder.init_weights()
    encoder.eval()
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        tokens = encoder(images)
        resized = torch.nn.functional.interpolate(
            images * 2 - 1, size=(32, 32), mode='bilinear',
            align_corners=False)
        expected = source(resized).last_hidden_state
    assert tokens.shape == (2, 16, 32)
    torch.testing.assert_close(tokens, expected)


def test_weights_that_do_not_fit_are_named(tmp_path):
    from transformers import SiglipVisionConfig, SiglipVisionModel
    SiglipVisionModel(SiglipVisionConfig(**dict(
        SIGLIP_VISION, num_hidden_layers=1))).save_pretrained(tmp_path)
    encoder = SiglipVisionEncoder(SIGLIP_VISION, pretrained=str(tmp_path))
    with pytest.raises(KeyError, match='encoder.layers.1'):
        encoder.init_weights()
