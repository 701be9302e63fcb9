# FIANet (Lei et al., TGRS 2024; Shaosifan/FIANet): the LAVT skeleton of
# lavt_swin-b.py (Swin-B window 12, ImageNet-22k 384 weights, BERT-base
# inside the model, a PWAM and language gate in every stage) plus
# - PhraseBertTextEncoder: BERT on the same ids three times, with the
#   expression's mask, its object words' mask and its spatial phrase's mask
#   (the words are found by the pipeline's ObjectPositionPhrases, NLTK);
# - FIANetFusion: per stage an object-position alignment block (object-word
#   cross-attention, gated, weighted by a spatial map from the position
#   phrase) added to the gated PWAM output, the sum weighted per channel,
#   into the stream; the decoder still gets the PWAM output; the last
#   stage's stream modules are frozen (their result is unused);
# - TextAwareMultiScaleEnhancement (TMEM) as a neck: all scales pooled to
#   the last stage's grid (15x15, 1920 -> 480 channels), 1 (RefSegRS) or 3
#   (RRSIS-D) blocks of attention over the expression, gated back onto
#   each scale;
# - LAVT's decoder; loss 0.9 x class-weighted CE (0.9, 1.1) + 0.1 x softmax
#   Dice summed over batch and classes.
# Parameters: 251,918,706 with 1 TMEM block, 256,168,626 with 3 (LAVT's
# 227,739,514 + alignment blocks 15,662,152 + TMEM 8,166,720 (1 block) +
# channel weighting 350,320).
_base_ = ['./lavt_swin-b.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
channels = [128, 256, 512, 1024]
model = dict(
    # BERT is part of FIANet's model and trains with it in train mode
    # (dropout on); it optimises BERT layers 0-9 only, as LAVT
    text_encoder=dict(type='PhraseBertTextEncoder', eval_mode=False),
    backbone=dict(
        fusion_cfg=dict(
            type='FIANetFusion',
            # every linear layer of its backbone starts as trunc_normal(.02)
            gate_init='trunc_normal')),
    neck=dict(
        type='TextAwareMultiScaleEnhancement',
        in_channels=channels,
        text_channels=768,
        num_blocks=1,
        norm_cfg=norm_cfg),
    decode_head=dict(loss_decode=[
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
