# The CMPC+ twin of synthetic/lgce_swin-mini_1xb8-10e_synthetic-128x128.py:
# the setting of lscm/lscm_r18-mini_1xb8-10e_synthetic-128x128.py (same
# data, budget, ResNet-18 with 32 base channels, 64-unit LSTM, loss) with
# CMPC+'s head over C3-C5 at 64 channels; no parse is needed (CMPC+
# learns its word roles). Out of the box on a CPU.
_base_ = ['../lscm/lscm_r18-mini_1xb8-10e_synthetic-128x128.py']
width = 64
model = dict(
    text_encoder=dict(
        _delete_=True,
        type='LSTMTextEncoder',
        vocab='mmrrsis-tiny-words',
        embed_dims=width,
        hidden_dims=width,
        max_tokens=20,
        sentence=None),
    decode_head=dict(
        _delete_=True,
        type='CMPCHead',
        in_channels=[64, 128, 256],
        in_index=(1, 2, 3),
        channels=width,
        vis_channels=width,
        text_channels=width,
        role_channels=32,
        feat_size=(16, 16),
        align_corners=False,
        loss_decode=[
            dict(type='BinaryLogisticLoss', reduction='mean'),
            dict(type='TargetDiceLoss', loss_weight=1.0)
        ]))
img_scale = (128, 128)
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
