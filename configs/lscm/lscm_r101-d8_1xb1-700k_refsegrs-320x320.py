# LSCM on RefSegRS with the recipe of its trainval_model.py: 320 x 320
# (images resized; RefSegRS' tiles are square), batch 1, Adam 2.5e-4, poly
# to 1e-5, 700k iterations, frozen DeepLab ResNet-101, GloVe words.
# Before training, write the dataset's vocabulary, GloVe vectors and the
# dependency parses of its expressions:
#   python tools/dataset_converters/build_word_vocab.py CONFIG \
#       --glove glove.840B.300d.txt
#   python tools/dataset_converters/parse_expressions.py CONFIG
#       (spaCy with en_core_web_sm installed)
_base_ = [
    '../_base_/models/lscm_r101-d8.py', '../_base_/datasets/refsegrs.py',
    '../_base_/schedules/schedule_adam-700k.py',
    '../_base_/default_runtime.py'
]
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
img_scale = (320, 320)
parse_file = 'data/RefSegRS/expression_parses.json'
train_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parse_file=parse_file),
    dict(type='PackRRSISInputs'),
]
test_pipeline = [
    dict(type='LoadRSImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='LoadReferringAnnotations'),
    dict(type='CleanText'),
    dict(type='LoadExpressionParse', parse_file=parse_file),
    dict(type='PackRRSISInputs'),
]
train_dataloader = dict(batch_size=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(
    logger=dict(interval=100, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=100000))
log_processor = dict(by_epoch=False)
