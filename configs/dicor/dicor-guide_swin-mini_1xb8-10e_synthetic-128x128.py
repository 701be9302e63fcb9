# DiCoR's synthetic twin, stage 3 of 4: the localization guide (narrowed)
# on the frozen coarse model, candidates picked on the prompt bank's maps;
# the recipe's lrs (evidence head 8e-4, ranker 5e-4, weight decay 1e-4),
# 10 epochs. The next stage starts from its last epoch.
_base_ = ['./dicor-coarse_swin-mini_1xb8-10e_synthetic-128x128.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-mini_1xb8-10e_synthetic-128x128'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='guide',
    localization_guide=dict(
        type='LocalizationGuide',
        in_channels=128,
        text_channels=64,
        evidence_channels=64,
        query_channels=64,
        route_channels=64,
        geometry_channels=32,
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
