# FIANet on RefSegRS, trained as fianet_swin-b_1xb8-60e_refsegrs-480x480.py
# but evaluated the reference's way: the best epoch is picked on the TEST
# split (its train.py validates on test every epoch) and every score is
# taken at 480x480 against the mask resized with nearest neighbours (the
# mask is loaded before the Pillow resize, the logits are arg-maxed at
# 480x480: AdoptNetworkSize; RRSISMetric(resolution='network')); the same
# as tools/test.py --resolution network. Numbers from this config compare
# with FIANet's paper; numbers from the default config (picked on val,
# scored at the mask's resolution) are the honest ones and do not.
_base_ = ['./fianet_swin-b_1xb8-60e_refsegrs-480x480.py']
img_scale = (480, 480)
eval_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False, backend='pillow'),
    dict(type='AdoptNetworkSize'),
    dict(type='CleanText'),
    dict(type='ObjectPositionPhrases', classes='refsegrs'),
    dict(type='PackRRSISInputs'),
]
val_dataloader = dict(
    dataset=dict(ann_file='output_phrase_test.txt', pipeline=eval_pipeline))
test_dataloader = dict(dataset=dict(pipeline=eval_pipeline))
val_evaluator = dict(type='RRSISMetric', resolution='network')
test_evaluator = val_evaluator
