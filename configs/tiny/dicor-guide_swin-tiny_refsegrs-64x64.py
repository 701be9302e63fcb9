# Tiny DiCoR, stage 3 of 4: the localization guide (narrow) trained on the
# frozen coarse model with the prompt bank's maps. See
# configs/dicor/dicor-guide_swin-b_1xb8-40e_refsegrs-480x480.py.
_base_ = ['./dicor-coarse_swin-tiny_refsegrs-64x64.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-tiny_refsegrs-64x64'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='guide',
    localization_guide=dict(
        type='LocalizationGuide',
        in_channels=128,
        text_channels=32,
        evidence_channels=16,
        query_channels=32,
        route_channels=32,
        geometry_channels=16,
        guide_text=False),
    frozen=[
        'text_encoder', 'backbone', 'neck', 'decode_head',
        'localization_guide.text_norm'
    ])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PromptBankDataset',
        bank_dir=coarse_dir + '/prompt_bank',
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(
    optimizer=dict(lr=5e-4, weight_decay=1e-4),
    paramwise_cfg=dict(
        _delete_=True,
        custom_keys={'localization_guide.evidence_head': dict(lr_mult=1.6)}))
custom_hooks = [dict(type='BestCheckpointLinkHook')]
