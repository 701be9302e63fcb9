# RMSIN (Liu et al., CVPR 2024; Lsan2401/RMSIN): the LAVT skeleton of
# lavt_swin-b.py (Swin-B window 12, ImageNet-22k 384 weights, BERT-base
# inside the model, a PWAM and language gate in every stage) plus
# - RMSINFusion: an intra-scale interaction with its own gate in every
#   stage (no language); the last stage's gates and intra-scale module are
#   frozen, as their result is unused (the reference needs
#   find_unused_parameters=True);
# - CrossScaleInteraction (CIM) over the four stages, as a neck (no
#   language);
# - RotatedDecodeHead: LAVT's decoder with an adaptive rotated convolution
#   as the second conv of each fusion step;
# - loss 0.9 x class-weighted CE (0.9, 1.1) + 0.1 x softmax Dice summed over
#   batch and classes.
_base_ = ['./lavt_swin-b.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
channels = [128, 256, 512, 1024]
model = dict(
    # RMSIN's BERT is part of the model and trains with it in train mode
    # (dropout on); it optimises BERT layers 0-9 only, as LAVT
    text_encoder=dict(eval_mode=False),
    backbone=dict(
        fusion_cfg=dict(
            type='RMSINFusion',
            # every linear layer of its backbone starts as trunc_normal(.02)
            gate_init='trunc_normal',
            norm_cfg=norm_cfg)),
    neck=dict(
        type='CrossScaleInteraction',
        in_channels=channels,
        # the last stage's size at 480x480 (the reference's only size)
        grid_size=15,
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='RotatedDecodeHead',
        in_channels=channels,
        channels=512,
        num_convs=2,
        kernel_number=1,
        loss_decode=[
            dict(
                type='WeightedCrossEntropyLoss',
                class_weight=[0.9, 1.1],
                loss_weight=0.9),
            dict(
                type='SoftmaxDiceLoss',
                smooth=1e-6,
                reduction='sum',
                loss_weight=0.1)
        ]))
