# Out of the box: a small RSRefSeg2 trained on the CPU in minutes on the
# generated RefSegRS-layout data (300 images of 128 x 128, created under
# data/synthetic_refsegrs_128 on first use), as the LGCE / LAVT twins
# (configs/synthetic/): same data, budget and seed. The towers start from
# random weights, so they are trained in full here (no LoRA); the prompter,
# SAM 2's decoder and the losses are the recipe's. Nothing is downloaded.
_base_ = [
    '../_base_/models/rsrefseg2_tiny.py',
    '../_base_/datasets/synthetic_refsegrs.py',
    '../_base_/schedules/schedule_40e.py', '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
sam2_vision = dict(
    _delete_=True,
    backbone_config=dict(
        hidden_size=16,
        embed_dim_per_stage=[16, 32, 64, 128],
        num_attention_heads_per_stage=[1, 2, 4, 8],
        blocks_per_stage=[1, 1, 2, 1],
        global_attention_blocks=[3],
        window_positional_embedding_background_size=[4, 4],
        window_size_per_stage=[8, 4, 4, 4],
        image_size=[128, 128]),
    backbone_channel_list=[128, 64, 32, 16],
    backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]],
    fpn_hidden_size=64)
model = dict(
    data_preprocessor=dict(size=(128, 128), test_cfg=dict(size=(128, 128))),
    text_encoder=dict(
        text_config=dict(hidden_size=64, intermediate_size=128,
                         projection_size=64),
        lora=None),
    backbone=dict(vision_config=sam2_vision, lora=None),
    vision_encoder=dict(
        vision_config=dict(hidden_size=64, intermediate_size=128,
                           image_size=64),
        lora=None),
    prompter=dict(text_dim=64, image_dim=64, prompt_dim=64, image_grid=8,
                  internal_dim=64, mlp_dim=64),
    decode_head=dict(
        vision_config=sam2_vision,
        prompt_encoder_config=dict(hidden_size=64, image_size=128),
        mask_decoder_config=dict(hidden_size=64)))

max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=3.0))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=0.9,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=2, max_keep_ckpts=2),
    visualization=dict(draw=True, interval=20))
randomness = dict(seed=0)
find_unused_parameters = True
