# DiCoR stage 3 of 4 on RefSegRS: pretraining of the localization guide on
# the frozen coarse model (its train_localization_guide.py, first part):
# the evidence head and the ranker learn from the frozen stage-3 features,
# picking candidates on the prompt bank's coarse maps; evidence head AdamW
# lr 8e-4, ranker 5e-4, both weight decay 1e-4, poly 0.9 per iteration, 40
# epochs, batch 8 (scripts/train_localization_guide.sh). Validation runs
# the coarse model with the guide boosting its stage-3 features (no text
# reweighting yet). The next stage starts from the last epoch
# (epoch_40.pth), as the reference hands its final adapter on.
_base_ = ['./dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480'
bank_dir = coarse_dir + '/prompt_bank'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='guide',
    text_encoder=dict(bert_config=dict()),
    backbone=dict(init_cfg=None),
    localization_guide=dict(
        type='LocalizationGuide',
        in_channels=512,
        text_channels=768,
        feature_index=2,
        alpha=0.5,
        guide_text=False),
    frozen=[
        'text_encoder', 'backbone', 'neck', 'decode_head',
        'localization_guide.text_norm'
    ])
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True,
        type='PromptBankDataset',
        bank_dir=bank_dir,
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(
    optimizer=dict(lr=5e-4, weight_decay=1e-4),
    paramwise_cfg=dict(
        _delete_=True,
        custom_keys={'localization_guide.evidence_head': dict(lr_mult=1.6)}))
custom_hooks = [dict(type='BestCheckpointLinkHook')]
