# Tiny DiCoR, stage 2 of 4: the refiner (base width 8) trained offline from
# the prompt bank, the coarse model frozen. See
# configs/dicor/dicor-refiner_swin-b_1xb16-40e_refsegrs-480x480.py.
_base_ = ['./dicor-coarse_swin-tiny_refsegrs-64x64.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-tiny_refsegrs-64x64'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='refiner',
    refiner=dict(type='RefineUNet', in_channels=4, base_channels=8),
    frozen=['text_encoder', 'backbone', 'neck', 'decode_head'])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PromptBankDataset',
        bank_dir=coarse_dir + '/prompt_bank',
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=1e-4),
    paramwise_cfg=dict(_delete_=True))
custom_hooks = [dict(type='BestCheckpointLinkHook')]
