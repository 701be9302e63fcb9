# Tiny CMPC+ for tests and CPU demos: the setting of
# lscm_r18-tiny_refsegrs-64x64.py (ResNet-18 with 16 base channels, a
# 32-unit LSTM, 64x64) with CMPC+'s head over C3-C5 at 32 channels. Nothing
# is downloaded.
_base_ = ['./lscm_r18-tiny_refsegrs-64x64.py']
model = dict(
    text_encoder=dict(
        _delete_=True,
        type='LSTMTextEncoder',
        vocab='mmrrsis-tiny-words',
        embed_dims=16,
        hidden_dims=32,
        max_tokens=20,
        sentence=None),
    decode_head=dict(
        _delete_=True,
        type='CMPCHead',
        in_channels=[32, 64, 128],
        in_index=(1, 2, 3),
        channels=32,
        vis_channels=32,
        text_channels=32,
        role_channels=16,
        feat_size=(8, 8),
        align_corners=False,
        loss_decode=dict(type='BinaryLogisticLoss', reduction='image_sum')))
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
