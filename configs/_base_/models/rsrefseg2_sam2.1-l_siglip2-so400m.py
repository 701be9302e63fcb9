# RSRefSeg2 (KyanChen/RSRefSeg2): SAM 2.1 Hiera-Large prompted from SigLIP 2
# so400m-patch16-512 through the cascaded prompter, LoRA (r 16) on the three
# towers. 1,447,126,199 parameters, 97,867,223 trainable (the reference's).
# Images enter as RGB in [0, 1] at 1024 x 1024 (each tower normalises for
# itself; SigLIP sees them resized to 512). The towers' architectures are
# written here, so the model builds without network access; their
# pretrained weights (`pretrained`) are read by init_weights() before
# training, from the local HuggingFace cache or the hub.
sam2 = 'facebook/sam2.1-hiera-large'
siglip2 = 'google/siglip2-so400m-patch16-512'
# LoRA as the reference: r 16, alpha 16, no dropout
lora = dict(r=16, lora_alpha=16, lora_dropout=0.)
sam2_vision = dict(
    backbone_config=dict(
        hidden_size=144,
        embed_dim_per_stage=[144, 288, 576, 1152],
        num_attention_heads_per_stage=[2, 4, 8, 16],
        blocks_per_stage=[2, 6, 36, 4],
        global_attention_blocks=[23, 33, 43],
        window_positional_embedding_background_size=[7, 7],
        window_size_per_stage=[8, 4, 16, 8]),
    backbone_channel_list=[1152, 576, 288, 144],
    fpn_hidden_size=256)
siglip2_text = dict(
    vocab_size=256000,
    hidden_size=1152,
    intermediate_size=4304,
    num_hidden_layers=27,
    num_attention_heads=16,
    max_position_embeddings=64,
    projection_size=1152)
siglip2_vision = dict(
    hidden_size=1152,
    intermediate_size=4304,
    num_hidden_layers=27,
    num_attention_heads=16,
    image_size=512,
    patch_size=16)
data_preprocessor = dict(
    type='RRSISDataPreProcessor',
    mean=[0., 0., 0.],
    std=[255., 255., 255.],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(1024, 1024),
    test_cfg=dict(size=(1024, 1024)))
model = dict(
    type='RSRefSeg2',
    data_preprocessor=data_preprocessor,
    text_encoder=dict(
        type='SiglipTextEncoder',
        text_config=siglip2_text,
        pretrained=siglip2,
        # the reference pads to the batch's longest expression with the
        # attention mask (and asks for 128 tokens; the tower has 64
        # positions)
        padding='longest',
        use_attention_mask=True,
        lora=dict(
            lora,
            target_modules=r'^(head|encoder\.layers\.\d+\.self_attn\.'
            r'(k_proj|v_proj|q_proj|out_proj))$')),
    backbone=dict(
        type='SAM2ImageEncoder',
        vision_config=sam2_vision,
        pretrained=sam2,
        lora=dict(
            lora,
            target_modules=r'^(backbone\.blocks\.\d+\.attn\.(qkv|proj)|'
            r'neck\.convs\.\d+)$')),
    vision_encoder=dict(
        type='SiglipVisionEncoder',
        vision_config=siglip2_vision,
        pretrained=siglip2,
        lora=dict(
            lora,
            target_modules=r'^(head\.(attention\.out_proj|mlp\.fc[12])|'
            r'encoder\.layers\.\d+\.self_attn\.'
            r'(k_proj|v_proj|q_proj|out_proj))$')),
    prompter=dict(
        type='CascadedPrompter',
        text_dim=1152,
        image_dim=1152,
        prompt_dim=256,
        image_grid=32,
        num_queries=3,
        num_prompts=9,
        depth=2,
        num_heads=8,
        internal_dim=512,
        mlp_dim=512),
    decode_head=dict(
        type='SAM2MaskHead',
        vision_config=sam2_vision,
        prompt_encoder_config=dict(),
        mask_decoder_config=dict(),
        pretrained=sam2,
        # SAM 2's eval-time fallback to the most confident of its three
        # other masks when the single mask is unstable (RSRefSeg2 builds
        # SAM 2 with it); False: always the single mask
        dynamic_multimask=True,
        stability_delta=0.05,
        stability_thresh=0.98,
        loss_decode=[
            dict(
                type='mmseg.CrossEntropyLoss',
                use_sigmoid=True,
                loss_weight=5.0),
            dict(type='SigmoidDiceLoss', loss_weight=5.0)
        ],
        query_loss=dict(type='QuerySeparationLoss', loss_weight=0.5),
        contrastive_loss=dict(type='MaskTextContrastiveLoss',
                              loss_weight=0.5),
        threshold=0.5,
        align_corners=False),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
