# A tiny RSRefSeg2 for tests and CPU demos: the full model's layout (SAM 2
# Hiera + FPN, prompt encoder, mask decoder; SigLIP text and vision towers;
# the cascaded prompter; LoRA on the three towers) with widths of 8-64
# (SAM 2's mask decoder keeps its fixed MLP and head widths), at 64 x 64
# input, random weights, the vocabulary that ships with mmrrsis.
# Nothing is downloaded.
_base_ = ['./rsrefseg2_sam2.1-l_siglip2-so400m.py']
sam2_vision = dict(
    _delete_=True,
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
data_preprocessor = dict(size=(64, 64), test_cfg=dict(size=(64, 64)))
model = dict(
    data_preprocessor=data_preprocessor,
    text_encoder=dict(
        text_config=dict(
            _delete_=True,
            vocab_size=512,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=24,
            projection_size=32),
        pretrained=None,
        tokenizer='mmrrsis-tiny',
        lora=dict(r=4, lora_alpha=4)),
    backbone=dict(
        vision_config=sam2_vision, pretrained=None,
        lora=dict(r=4, lora_alpha=4)),
    vision_encoder=dict(
        vision_config=dict(
            _delete_=True,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            patch_size=8),
        pretrained=None,
        lora=dict(r=4, lora_alpha=4)),
    prompter=dict(
        text_dim=32,
        image_dim=32,
        prompt_dim=32,
        image_grid=4,
        num_heads=2,
        internal_dim=32,
        mlp_dim=32),
    decode_head=dict(
        vision_config=sam2_vision,
        prompt_encoder_config=dict(
            hidden_size=32, image_size=64, patch_size=16),
        # SAM 2's decoder keeps its MLP width (2048), 8 heads and IoU head
        # width (256) whatever the embedding width
        mask_decoder_config=dict(hidden_size=32),
        pretrained=None))
