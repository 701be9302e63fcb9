# DiCoR's synthetic twin, stage 2 of 4: the refiner (base width 16) from
# the prompt bank, coarse model frozen; the recipe's batch 16 and weight
# decay 1e-4, lr 1e-3 (random initialisation, minutes), 10 epochs.
_base_ = ['./dicor-coarse_swin-mini_1xb8-10e_synthetic-128x128.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-mini_1xb8-10e_synthetic-128x128'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='refiner',
    refiner=dict(type='RefineUNet', in_channels=4, base_channels=16),
    frozen=['text_encoder', 'backbone', 'neck', 'decode_head'])
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _delete_=True,
        type='PromptBankDataset',
        bank_dir=coarse_dir + '/prompt_bank',
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3, weight_decay=1e-4),
    paramwise_cfg=dict(_delete_=True))
custom_hooks = [dict(type='BestCheckpointLinkHook')]
