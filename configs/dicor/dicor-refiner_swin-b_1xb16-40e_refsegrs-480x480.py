# DiCoR stage 2 of 4 on RefSegRS: the refiner (a U-Net over the image and
# the coarse foreground probability, zero-initialised output, logits =
# coarse + delta), trained offline from the prompt bank: each sample gets
# the map of a random coarse snapshot (all-zero maps are left out), the
# coarse model is frozen and not run. Recipe of its train_refiner.py /
# scripts/train_refiner.sh: AdamW lr 1e-4, weight decay 1e-4 on every
# refiner parameter, poly 0.9 per iteration, 40 epochs, batch 16; loss
# focus-weighted CE + Dice + 0.05 x correction outside the focus.
# Validation runs the coarse model + refiner.
# Needs: the coarse stage's best.pth and its prompt bank:
#   python tools/misc/build_prompt_bank.py \
#       configs/dicor/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py \
#       work_dirs/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480
_base_ = ['./dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py']
coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480'
bank_dir = coarse_dir + '/prompt_bank'
load_from = coarse_dir + '/best.pth'
# the previous stage has no weights for the parts this stage adds (each
# key skipped is logged), as the reference's strict=False loads
load_from_strict = False
model = dict(
    stage='refiner',
    # the weights come from load_from: nothing pretrained is loaded first
    text_encoder=dict(bert_config=dict()),
    backbone=dict(init_cfg=None),
    refiner=dict(type='RefineUNet', in_channels=4, base_channels=64),
    frozen=['text_encoder', 'backbone', 'neck', 'decode_head'])
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        _delete_=True,
        type='PromptBankDataset',
        bank_dir=bank_dir,
        dataset={{_base_.train_dataloader.dataset}}))
optim_wrapper = dict(
    optimizer=dict(lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(_delete_=True))
custom_hooks = [dict(type='BestCheckpointLinkHook')]
