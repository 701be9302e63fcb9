# DiCoR (Gao et al.; zyGao1126/DiCoR @ 07f08a70), its coarse model: the LAVT
# skeleton of lavt_swin-b.py (Swin-B window 12, ImageNet-22k 384 weights,
# BERT-base inside the model, a PWAM and language gate in every stage) plus
# VMSF, a visual-only multi-scale fusion (the four stages pooled to the
# last one's 15x15 grid, 3 blocks of 8-head self-attention, scale-aware
# gates back onto each stage).
# Parameters: 242,094,394 = LAVT's 227,739,514 + VMSF 14,354,880.
# The later stages (configs/dicor/) add the localization guide (1,630,723),
# turn VMSF into LVMSF (+ text <-> visual cross-attention) and add the
# refiner (31,038,274): 303,842,463 in the full test model.
_base_ = ['./lavt_swin-b.py']
channels = [128, 256, 512, 1024]
model = dict(
    type='DiCoREncoderDecoder',
    stage='coarse',
    # DiCoR's BERT is part of the model and trains in train mode (dropout
    # on); its optimizer takes BERT layers 0-9 only, as LAVT's
    text_encoder=dict(eval_mode=False),
    # its backbone initialises every linear layer (the gates too) with
    # trunc_normal(0.02)
    backbone=dict(fusion_cfg=dict(gate_init='trunc_normal')),
    neck=dict(
        type='VMSFNeck',
        in_channels=channels,
        num_blocks=3,
        num_heads=8,
        mlp_ratio=4,
        norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(
        # CE with class weights (0.9, 1.1) + Dice of both classes averaged
        # over batch and classes, both weighted 1 (its loss/loss.py)
        loss_decode=[
            dict(
                type='WeightedCrossEntropyLoss',
                class_weight=[0.9, 1.1],
                loss_weight=1.0),
            dict(
                type='SoftmaxDiceLoss',
                smooth=1e-6,
                reduction='mean',
                loss_weight=1.0)
        ]),
    test_cfg=dict(mode='whole', refine=True))
