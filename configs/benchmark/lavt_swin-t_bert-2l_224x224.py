# The small setting of the speed comparison (docs/speed.md): LAVT with
# Swin-T (embed 96, depths 2-2-6-2, window 7) and a 2-layer BERT (hidden
# 768, 12 heads, intermediate 256), for 224x224 inputs. Random weights;
# benchmark it with --offline. Same recipe (AdamW, weighted CE) as
# configs/lavt_swin-b.py.
_base_ = ['../lavt_swin-b.py']
model = dict(
    text_encoder=dict(
        pretrained=None,
        vocab='mmrrsis-tiny',
        bert_config=dict(num_hidden_layers=2, intermediate_size=256),
        # LAVT trains BERT layers 0-9: both layers of this one
        frozen_layers=[]),
    backbone=dict(
        pretrain_img_size=224,
        embed_dims=96,
        window_size=7,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        drop_path_rate=0.2,
        init_cfg=None),
    decode_head=dict(in_channels=[96, 192, 384, 768], channels=384))
