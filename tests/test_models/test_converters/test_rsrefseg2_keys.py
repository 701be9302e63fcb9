"""RSRefSeg2 checkpoint conversion (mmrrsis/models/converters/rsrefseg2.py):
the reference's key layout (names and shapes read off KyanChen/RSRefSeg2's
own modules, tests/data/models/rsrefseg2_reference_keys.json.gz) converts
and loads strictly, full size (meta tensors) and tiny; LoRA merges."""
import gzip
import json
import os.path as osp

import pytest
import torch

from mmrrsis.models.converters import convert_rsrefseg2, merge_lora_weights
from mmrrsis.models.converters.rsrefseg2 import prompter_key, sam2_key

KEYS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
    'models', 'rsrefseg2_reference_keys.json.gz')


@pytest.fixture(scope='module')
def reference_keys():
    with gzip.open(KEYS, 'rt') as f:
        return json.load(f)


def _random_state(keys, seed=0):
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in keys:
        if name.endswith('num_batches_tracked'):
            state[name] = torch.tensor(3)
        elif name.endswith('running_var'):
            state[name] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[name] = 0.2 * torch.randn(shape, generator=gen)
    return state


def test_full_size_layout_maps_onto_our_model(reference_keys, helpers):
    from mmrrsis.models.text_encoders import SiglipTextEncoder
    cfg = helpers.model_cfg('rsrefseg2_sam2.1-l_siglip2-so400m')
    cfg['text_encoder'] = SiglipTextEncoder.offline_cfg(cfg['text_encoder'])
    with torch.device('meta'):
        model = helpers.build_model(cfg)
        state = {k: torch.empty(s) for k, s in reference_keys['full']}
    assert len(state) == 2649
    ours = model.state_dict()
    converted = convert_rsrefseg2({'state_dict': state})
    assert set(converted) == set(ours)
    assert all(converted[k].shape == ours[k].shape for k in ours)


def test_tiny_checkpoint_loads_strictly_with_values_in_place(
        reference_keys, helpers):
    state = _random_state(reference_keys['tiny'])
    model = helpers.build_model(helpers.model_cfg('rsrefseg2_tiny'))
    converted = convert_rsrefseg2({'state_dict': state})
    model.load_state_dict(converted, strict=True)
    own = model.state_dict()
    pairs = {
        'backbone.model.image_encoder.base_model.model.trunk.blocks.2.mlp.'
        'layers.0.weight': 'backbone.sam.backbone.blocks.2.mlp.proj_in.weight',
        'backbone.model.image_encoder.base_model.model.neck.convs.1.conv.'
        'lora_B.default.weight':
        'backbone.sam.neck.convs.1.lora_B.default.weight',
        'backbone.model.sam_mask_decoder.iou_prediction_head.layers.1.bias':
        'decode_head.mask_decoder.iou_prediction_head.layers.0.bias',
        'backbone.model.sam_prompt_encoder.mask_downscaling.4.weight':
        'decode_head.prompt_encoder.mask_embed.layer_norm2.weight',
        'prompter.two_queries_text_attn_layers.1.mlp_query2_3.layers.1.'
        'weight': 'prompter.query_blocks.1.cross_ffn2.fc2.weight',
        'prompter.prompt_queries2_img_attn_layers.0.norm_prompt_4.bias':
        'prompter.prompt_blocks.0.image_attn.norm.bias',
        'prompter.queries1_to_img_attn_layers.1.self_attn_text_text_1.'
        'k_proj.weight': 'prompter.image_blocks1.1.query_attn.attn.k_proj.'
        'weight',
        'clip_text_encoder.base_model.model.logit_bias':
        'text_encoder.logit_bias',
        'decode_head.logit_scale2': 'decode_head.contrastive_loss.logit_scale',
    }
    for theirs, ours in pairs.items():
        # (the head's 0-d scalars become (1,): FSDP shards no 0-d tensor)
        assert torch.equal(own[ours], state[theirs].reshape(own[ours].shape))
        assert own[ours].numel() == state[theirs].numel(), ours
    points = [
        state[f'backbone.model.sam_prompt_encoder.point_embeddings.{i}.weight']
        for i in range(4)
    ]
    assert torch.equal(own['decode_head.prompt_encoder.point_embed.weight'],
                       torch.cat(points))
    # DeepSpeed's model-states file and 'module.' prefixes read the same
    again = convert_rsrefseg2({'module': {'module.' + k: v
                                          for k, v in state.items()}})
    assert set(again) == set(converted)


def test_unexpected_keys_are_named(reference_keys):
    state = _random_state(reference_keys['tiny'])
    state['prompter.extra_layer.weight'] = torch.zeros(1)
    state['backbone.model.memory_encoder.out_proj.weight'] = torch.zeros(1)
    with pytest.raises(KeyError) as err:
        convert_rsrefseg2({'state_dict': state})
    assert 'prompter.extra_layer.weight' in str(err.value)
    assert 'backbone.model.memory_encoder.out_proj.weight' in str(err.value)
    assert '2 keys' in str(err.value)


def test_merged_lora_loads_into_lora_merged_and_keeps_the_function(
        reference_keys, helpers):
    state = _random_state(reference_keys['tiny'], seed=1)
    cfg = helpers.model_cfg('rsrefseg2_tiny')
    adapted = helpers.build_model(cfg)
    adapted.load_state_dict(convert_rsrefseg2({'state_dict': state}))
    plain = helpers.build_model(dict(cfg, lora_merged=True))
    merged = convert_rsrefseg2({'state_dict': state}, merge_lora=True)
    assert not any('lora_' in k or 'base_layer' in k for k in merged)
    plain.load_state_dict(merged, strict=True)
    metas = [dict(text='long truck'), dict(text='tree')]
    images = torch.rand(
        2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for model in (adapted, plain):
        model.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            plain.encode_decode(images, metas),
            adapted.encode_decode(images, metas), rtol=1e-4, atol=1e-4)


def test_merge_arithmetic_and_dtype():
    w = torch.randn(6, 4, dtype=torch.bfloat16)
    a, b = torch.randn(2, 4), torch.randn(6, 2)
    conv_w, conv_a, conv_b = torch.randn(6, 4, 1, 1), torch.randn(
        2, 4, 1, 1), torch.randn(6, 2, 1, 1)
    out = merge_lora_weights({
        'x.base_layer.weight': w, 'x.base_layer.bias': torch.ones(6),
        'x.lora_A.default.weight': a, 'x.lora_B.default.weight': b,
        'c.base_layer.weight': conv_w, 'c.lora_A.default.weight': conv_a,
        'c.lora_B.default.weight': conv_b, 'plain.weight': torch.ones(1)
    }, scaling=0.5)
    assert set(out) == {'x.weight', 'x.bias', 'c.weight', 'plain.weight'}
    assert out['x.weight'].dtype == torch.float32
    torch.testing.assert_close(out['x.weight'], w.float() + 0.5 * b @ a)
    torch.testing.assert_close(
        out['c.weight'],
        conv_w + 0.5 * (conv_b[..., 0, 0] @ conv_a[..., 0, 0])[..., None,
                                                                None])


def test_sam2_names():
    assert sam2_key('image_encoder.trunk.patch_embed.proj.weight') == \
        'vision_encoder.backbone.patch_embed.projection.weight'
    assert sam2_key('sam_mask_decoder.transformer.layers.1.norm3.bias') == \
        'mask_decoder.transformer.layers.1.layer_norm3.bias'
    assert sam2_key('sam_mask_decoder.transformer.final_attn_token_to_image.'
                    'out_proj.weight') == \
        'mask_decoder.transformer.final_attn_token_to_image.o_proj.weight'
    assert sam2_key('memory_attention.layers.0.norm1.weight') is None
    assert sam2_key('no_mem_embed') == 'no_memory_embedding'
    assert prompter_key('img_pe') == 'image_pe'
    assert prompter_key('unknown.weight') is None
