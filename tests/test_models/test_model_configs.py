"""The shipped model configs: recipe values, parameter counts, optimiser
parameter groups."""
import os.path as osp

import pytest
from mmengine import Config
from mmengine.optim import build_optim_wrapper

HEADLINE = ['lavt_swin-b.py', 'lgce_swin-b.py']
LEAVES = HEADLINE + [
    'lavt/lavt_swin-b_4xb8-40e_refsegrs-480x480.py',
    'lgce/lgce_swin-b_4xb8-40e_refsegrs-480x480.py',
    'lavt/lavt_swin-b_4xb8-40e_rrsisd-480x480.py',
    'lgce/lgce_swin-b_4xb8-40e_rrsisd-480x480.py',
    'lgce/lgce-rsfm_swin-b_4xb8-40e_refsegrs-480x480.py',
]


@pytest.mark.parametrize('name', LEAVES)
def test_paper_recipe(name, helpers):
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    assert cfg.default_scope == 'mmrrsis'
    assert cfg.custom_imports == dict(
        imports=['mmrrsis'], allow_failed_imports=False)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 5e-5, 1e-2)
    assert set(cfg.optim_wrapper.paramwise_cfg.custom_keys) == {
        'norm', 'absolute_pos_embed', 'relative_position_bias_table'
    }
    (poly, ) = cfg.param_scheduler
    assert (poly.type, poly.power, poly.end, poly.by_epoch,
            poly.convert_to_iter_based) == ('PolyLR', 0.9, 40, True, True)
    assert cfg.train_cfg.max_epochs == 40
    assert cfg.train_dataloader.batch_size == 8
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if t.type == 'Resize']
    assert resize[0].scale == (480, 480) and not resize[0].keep_ratio
    model = cfg.model
    assert model.text_encoder.pretrained == 'bert-base-uncased'
    assert model.text_encoder.max_tokens == 20
    # the reference loaders' token rule (issue 11)
    assert model.text_encoder.truncation == 'reference'
    assert model.data_preprocessor.type == 'RRSISDataPreProcessor'
    assert model.text_encoder.frozen_layers == [10, 11]
    backbone = model.backbone
    assert (backbone.embed_dims, backbone.window_size,
            backbone.drop_path_rate) == (128, 12, 0.3)
    assert 'swin_base_patch4_window12_384_22k' in \
        backbone.init_cfg.checkpoint
    assert model.decode_head.loss_decode.class_weight == [0.9, 1.1]
    # no model leaves a trainable parameter without a gradient (the
    # re-implementation layout freezes what its reference discards)
    assert not cfg.get('find_unused_parameters', False)
    if 'lgce' in name:
        assert model.neck.type == ('LGCERSFMNeck'
                                   if 'rsfm' in name else 'LGCENeck')
        assert 'mode' not in model.neck
    else:
        assert 'neck' not in model or model.neck is None
    dataset = cfg.train_dataloader.dataset.type
    assert dataset == ('RRSISDDataset' if 'rrsisd' in name else
                       'RefSegRSDataset')


@pytest.mark.parametrize('name', ['lavt', 'lgce'])
def test_tiny_configs(name, helpers):
    cfg = Config.fromfile(
        osp.join(helpers.configs, 'tiny',
                 f'{name}_swin-tiny_refsegrs-64x64.py'))
    assert cfg.train_dataloader.batch_size == 2
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        resize = [t for t in loader.dataset.pipeline if t.type == 'Resize']
        assert resize[0].scale == (64, 64)
    assert cfg.model.text_encoder.vocab == 'mmrrsis-tiny'
    assert cfg.model.backbone.embed_dims == 32
    assert (cfg.model.get('neck') is not None) == (name == 'lgce')


def test_lavt_swin_b_has_exactly_227739514_parameters(helpers):
    """Built once (about 4 s, 1 GB), BERT from BertConfig() offline."""
    cfg = helpers.model_cfg('lavt_swin-b')
    cfg['text_encoder'].update(
        pretrained=None, bert_config=dict(), vocab='mmrrsis-tiny')
    cfg['decode_head']['norm_cfg'] = dict(type='BN', requires_grad=True)
    model = helpers.build_model(cfg)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(model.text_encoder) == 108_891_648
    assert count(model.backbone) - count(model.backbone.fusion) == \
        86_880_376
    assert count(model.backbone.fusion) == 11_316_480
    assert count(model.decode_head) == 20_651_010
    assert count(model) == 227_739_514
    # LAVT optimises BERT layers 0-9 only
    trainable_layers = {
        int(n.split('.')[3])
        for n, p in model.text_encoder.named_parameters()
        if p.requires_grad
    }
    assert trainable_layers == set(range(10))


def test_weight_decay_groups_follow_lavt(helpers):
    cfg = Config.fromfile(
        osp.join(helpers.configs, '_base_', 'schedules', 'schedule_40e.py'))
    model = helpers.build_model(helpers.model_cfg('lgce_swin-tiny'))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            decay[id(param)] = group['weight_decay']
    names = dict(model.named_parameters())

    def wd(name):
        return decay[id(names[name])]

    # every trainable parameter is in a group (frozen ones are left out)
    assert set(decay) == {
        id(p) for p in model.parameters() if p.requires_grad
    }
    no_decay = [
        'backbone.patch_embed.norm.weight',
        'backbone.stages.0.blocks.0.norm1.weight',
        'backbone.stages.0.blocks.0.norm2.bias',
        'backbone.stages.0.downsample.norm.weight',
        'backbone.norm3.weight',
        'backbone.stages.1.blocks.0.attn.w_msa.relative_position_bias_table',
        'neck.pixel_norms.0.weight',
        'neck.guide_norm.bias',
    ]
    decayed = [
        'text_encoder.bert.encoder.layer.0.output.LayerNorm.weight',
        'decode_head.fuse_convs.0.0.bn.weight',
        'backbone.fusion.pwams.0.query_proj.weight',
        'backbone.stages.0.blocks.0.attn.w_msa.qkv.bias',
        'neck.pixel_projs.0.weight',
        'decode_head.conv_seg.weight',
    ]
    for name in no_decay:
        assert wd(name) == 0, name
    for name in decayed:
        assert wd(name) == pytest.approx(1e-2), name


RMSIN = [
    'rmsin/rmsin_swin-b_4xb2-40e_rrsisd-480x480.py',
    'rmsin/rmsin_swin-b_4xb2-40e_refsegrs-480x480.py',
    'rmsin/rmsin_swin-b_4xb8-40e_rrsisd-480x480.py',  # the name
]


@pytest.mark.parametrize('name', RMSIN)
def test_rmsin_recipe(name, helpers):
    """RMSIN's train.py / args.py: AdamW 3e-5, wd 0.01 with LAVT's
    no-decay keys, BERT layers 0-9, poly 0.9 per iteration, 40 epochs,
    batch 2 per GPU, 480x480, seed 2401, boxes on 20% of the refs."""
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    assert cfg.default_scope == 'mmrrsis'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 3e-5, 1e-2)
    assert set(cfg.optim_wrapper.paramwise_cfg.custom_keys) == {
        'norm', 'absolute_pos_embed', 'relative_position_bias_table'
    }
    (poly, ) = cfg.param_scheduler
    assert (poly.power, poly.end, poly.convert_to_iter_based) == (0.9, 40,
                                                                  True)
    assert cfg.train_cfg.max_epochs == 40
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.randomness.seed == 2401
    assert not cfg.get('find_unused_parameters', False)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert pipeline.index('RandomBoxes') < pipeline.index('Resize')
    boxes = cfg.train_dataloader.dataset.pipeline[pipeline.index(
        'RandomBoxes')]
    assert (boxes.prob, tuple(boxes.num_boxes), boxes.box_size) == (0.2,
                                                                    (20, 60),
                                                                    32)
    assert 'RandomBoxes' not in [
        t.type for t in cfg.test_dataloader.dataset.pipeline
    ]
    model = cfg.model
    text = model.text_encoder
    assert (text.pretrained, text.max_tokens, text.truncation) == (
        'bert-base-uncased', 20, 'reference')
    assert text.frozen_layers == [10, 11] and text.freeze_embeddings
    assert text.eval_mode is False  # BERT trains in train mode (dropout)
    assert model.backbone.fusion_cfg.type == 'RMSINFusion'
    assert (model.backbone.embed_dims, model.backbone.window_size,
            model.backbone.drop_path_rate) == (128, 12, 0.3)
    assert model.neck.type == 'CrossScaleInteraction'
    assert model.decode_head.type == 'RotatedDecodeHead'
    ce, dice = model.decode_head.loss_decode
    assert (ce.type, ce.class_weight, ce.loss_weight) == (
        'WeightedCrossEntropyLoss', [0.9, 1.1], 0.9)
    assert (dice.type, dice.reduction, dice.loss_weight) == (
        'SoftmaxDiceLoss', 'sum', 0.1)


def test_rmsin_swin_b_parameter_count(helpers):
    """LAVT's 227,739,514 + visual gates 2,785,280 + intra-scale modules
    152 + CIM 9,492,246 + rotation routings 19,971 = 240,037,163."""
    cfg = helpers.model_cfg('rmsin_swin-b')
    cfg['text_encoder'].update(
        pretrained=None, bert_config=dict(), vocab='mmrrsis-tiny')
    for part in (cfg['decode_head'], cfg['neck'],
                 cfg['backbone']['fusion_cfg']):
        part['norm_cfg'] = dict(type='BN', requires_grad=True)
    model = helpers.build_model(cfg)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(model.neck) == 9_492_246
    assert count(model.decode_head) == 20_670_981
    assert count(model) == 240_037_163
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert {'backbone.fusion.gates.3.0.weight',
            'backbone.fusion.visual_gates.3.2.weight',
            'backbone.fusion.intra.3.blocks.0.identity.weight'} <= frozen


@pytest.mark.parametrize('dataset, lr, epochs, t_max', [
    ('refsegrs', 2e-4, 600, 1200),
    ('rrsisd', 1e-4, 300, 390),
    ('risbench', 1e-4, 300, 390),
])
def test_rsrefseg2_recipe(dataset, lr, epochs, t_max, helpers):
    """RSRefSeg2's configs read as KyanChen/RSRefSeg2's
    configs_RSRefSeg2/{refsegrs,rrsisd,risbench}_training.py (RISBench from
    the datainfo JSON lines, as its loader reads it)."""
    cfg = Config.fromfile(
        osp.join(helpers.configs, 'rsrefseg2',
                 f'rsrefseg2_sam2.1-l_siglip2-so400m_b8-{epochs}e_'
                 f'{dataset}-1024x1024.py'))
    assert cfg.default_scope == 'mmrrsis'
    assert cfg.runner_type == 'RRSISFlexibleRunner'
    strategy = cfg.strategy
    assert strategy.type == 'RRSISDeepSpeedStrategy'
    assert strategy.bf16.enabled and strategy.zero_optimization.stage == 2
    assert strategy.gradient_clipping == 3.0
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', lr, 0.05)
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR',
                                                             0.01, 5)
    assert (cosine.type, cosine.T_max, cosine.begin, cosine.end,
            cosine.eta_min_ratio) == ('CosineAnnealingLR', t_max,
                                      epochs // 10, epochs, 0.01)
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size == 8
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if t.type == 'Resize'][0]
    assert resize.scale == (1024, 1024) and resize.keep_ratio
    model = cfg.model
    assert model.data_preprocessor.std == [255.] * 3
    for tower in ('text_encoder', 'backbone', 'vision_encoder'):
        assert model[tower].lora.r == model[tower].lora.lora_alpha == 16
    assert model.decode_head.dynamic_multimask is True
    assert [loss.loss_weight for loss in model.decode_head.loss_decode
            ] == [5.0, 5.0]
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    if dataset == 'risbench':
        for split in ('train', 'val', 'test'):
            data = cfg[f'{split}_dataloader'].dataset
            assert (data.type, data.dataset, data.split) == (
                'JSONLReferringDataset', 'risbench', split)
            assert set(data) == {'type', 'dataset', 'data_root', 'split',
                                 'pipeline'}


def test_rsrefseg2_synthetic_twin_builds(helpers):
    model = helpers.build_model(
        helpers.leaf_model_cfg(
            'rsrefseg2/rsrefseg2_mini_1xb8-10e_synthetic-128x128.py'))
    total, trainable = model.parameter_counts()['total']
    assert total == trainable  # random towers: trained in full
FIANET = {
    'fianet/fianet_swin-b_1xb8-60e_refsegrs-480x480.py':
    (5e-5, 60, 1, 20, 'refsegrs'),
    'fianet/fianet_swin-b_1xb8-40e_rrsisd-480x480.py':
    (3e-5, 40, 3, 22, 'rrsisd'),
}


@pytest.mark.parametrize('name', sorted(FIANET))
def test_fianet_recipe(name, helpers):
    """FIANet's README and train.py: AdamW, wd 0.01 with LAVT's groups,
    poly 0.9 per iteration, one GPU x batch 8, 480x480 (Pillow resizes),
    seed 2401; RefSegRS 5e-5 / 60 epochs / 1 TMEM block / 20 tokens,
    RRSIS-D 3e-5 / 40 / 3 / 22 and random boxes."""
    lr, epochs, blocks, tokens, classes = FIANET[name]
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    assert cfg.default_scope == 'mmrrsis'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', lr, 1e-2)
    assert set(cfg.optim_wrapper.paramwise_cfg.custom_keys) == {
        'norm', 'absolute_pos_embed', 'relative_position_bias_table'
    }
    (poly, ) = cfg.param_scheduler
    assert (poly.power, poly.end, poly.convert_to_iter_based) == (0.9,
                                                                  epochs,
                                                                  True)
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.train_dataloader.batch_size == 8
    assert cfg.randomness.seed == 2401
    assert not cfg.get('find_unused_parameters', False)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        steps = {t.type: t for t in loader.dataset.pipeline}
        assert (steps['Resize'].scale, steps['Resize'].backend) == (
            (480, 480), 'pillow')
        assert steps['ObjectPositionPhrases'].classes == classes
        assert 'lexicon' not in steps['ObjectPositionPhrases']
    boxes = [t.type for t in cfg.train_dataloader.dataset.pipeline
             ].count('RandomBoxes')
    assert boxes == (classes == 'rrsisd')
    model = cfg.model
    text = model.text_encoder
    assert text.type == 'PhraseBertTextEncoder'
    assert (text.pretrained, text.max_tokens, text.truncation) == (
        'bert-base-uncased', tokens, 'reference')
    assert text.frozen_layers == [10, 11] and text.freeze_embeddings
    assert text.eval_mode is False
    assert model.backbone.fusion_cfg.type == 'FIANetFusion'
    assert (model.backbone.embed_dims, model.backbone.window_size) == (128,
                                                                       12)
    assert (model.neck.type, model.neck.num_blocks) == (
        'TextAwareMultiScaleEnhancement', blocks)
    assert model.decode_head.type == 'ReferringDecodeHead'
    ce, dice = model.decode_head.loss_decode
    assert (ce.class_weight, ce.loss_weight) == ([0.9, 1.1], 0.9)
    assert (dice.type, dice.reduction, dice.smooth, dice.loss_weight) == (
        'SoftmaxDiceLoss', 'sum', 1e-6, 0.1)


def test_fianet_reference_evaluation_config(helpers):
    cfg = Config.fromfile(
        osp.join(helpers.configs, 'fianet',
                 'fianet_swin-b_1xb8-60e_refsegrs-480x480_reference-eval.py'))
    assert cfg.val_dataloader.dataset.ann_file == 'output_phrase_test.txt'
    assert cfg.val_evaluator.resolution == 'network'
    assert cfg.test_evaluator.resolution == 'network'
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        steps = [t.type for t in loader.dataset.pipeline]
        assert steps.index('LoadReferringAnnotations') < steps.index('Resize')
        assert steps.index('AdoptNetworkSize') == steps.index('Resize') + 1


def test_fianet_swin_b_parameter_counts_and_groups(helpers, capsys):
    """Built once with 3 TMEM blocks (RRSIS-D): 256,168,626 parameters;
    less two blocks, RefSegRS' 251,918,706 = LAVT's 227,739,514 +
    alignment blocks 15,662,152 + TMEM 8,166,720 + channel weighting
    350,320. The optimiser groups are the reference's: no decay on 140
    tensors of 260,216 values (norms, position tables); the decayed
    parameters plus the frozen unused ones (the last stage's stream modules
    and the alignment blocks' unused embedding) make its backbone,
    classifier and BERT layers 0-9 groups."""
    cfg = helpers.model_cfg('fianet_swin-b')
    cfg['text_encoder'].update(
        pretrained=None, bert_config=dict(), vocab='mmrrsis-tiny')
    cfg['backbone']['init_cfg'] = None
    cfg['neck']['num_blocks'] = 3
    for part in (cfg['decode_head'], cfg['neck']):
        part['norm_cfg'] = dict(type='BN', requires_grad=True)
    model = helpers.build_model(cfg)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    fusion = model.backbone.fusion
    block = count(model.neck.blocks[0])
    total = count(model)
    with capsys.disabled():
        print(f'\nFIANet Swin-B: {total:,d} parameters with 3 TMEM blocks, '
              f'{total - 2 * block:,d} with 1')
    assert total == 256_168_626
    assert total - 2 * block == 251_918_706
    assert count(model.neck) - 2 * block == 8_166_720
    assert count(fusion.alignments) == 15_662_152
    assert count(fusion.channel_weights) == 350_320
    assert count(fusion.pwams) + count(fusion.gates) == 11_316_480
    schedule = Config.fromfile(
        osp.join(helpers.configs, '_base_', 'schedules', 'schedule_40e.py'))
    wrapper = build_optim_wrapper(model, schedule.optim_wrapper)
    no_decay, decay = [], []
    for group in wrapper.optimizer.param_groups:
        (decay if group['weight_decay'] else no_decay).extend(group['params'])
    # the reference's 1-block counts: blocks 1 and 2 left out
    extra = {id(p) for b in model.neck.blocks[1:] for p in b.parameters()}
    no_decay = [p for p in no_decay if id(p) not in extra]
    assert len(no_decay) == 140
    assert sum(p.numel() for p in no_decay) == 260_216
    unused = fusion.stream_modules(3) + [a.object_embed
                                         for a in fusion.alignments[:3]]
    frozen = sum(count(m) for m in unused)
    reference_decayed = 122_115_832 + 20_651_010 + 70_878_720
    decay = [p for p in decay if id(p) not in extra]
    assert sum(p.numel() for p in decay) + frozen == reference_decayed


MMPRETRAIN_LAVT = {
    # config: (encoder type, parameters of the whole model, of the encoder)
    'mix/lavt_convnext-b_4xb8-40e_refsegrs-480x480.py':
    ('mmpretrain.ConvNeXt', 228_427_394, 87_568_256),
    'mix/lavt_swinv2-b_4xb8-40e_refsegrs-480x480.py':
    ('mmpretrain.SwinTransformerV2', 227_754_746, 86_895_608),
}


@pytest.mark.parametrize('name', list(MMPRETRAIN_LAVT))
def test_lavt_on_mmpretrain_backbones(name, helpers):
    """LAVT's recipe and model with mmpretrain's ConvNeXt-B / SwinV2-B,
    built at full size (BERT-base shape offline, nothing loaded)."""
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    encoder_type, total, encoder_params = MMPRETRAIN_LAVT[name]
    assert cfg.default_scope == 'mmrrsis'
    assert (cfg.optim_wrapper.optimizer.lr, cfg.train_cfg.max_epochs,
            cfg.train_dataloader.batch_size) == (5e-5, 40, 8)
    backbone = cfg.model.backbone
    assert backbone.type == 'LanguageAwareBackbone'
    assert backbone.encoder.type == encoder_type
    init = backbone.encoder.init_cfg
    assert (init.type, init.prefix) == ('Pretrained', 'backbone.')
    assert init.checkpoint.startswith(
        'https://download.openmmlab.com/mmclassification/v0/')
    assert '_in21k' in init.checkpoint  # ImageNet-21k, like LAVT's Swin-B
    model_cfg = cfg.model.to_dict()
    model_cfg['text_encoder'].update(
        pretrained=None, bert_config=dict(), vocab='mmrrsis-tiny')
    model_cfg['decode_head']['norm_cfg'] = dict(type='BN',
                                                requires_grad=True)
    model = helpers.build_model(model_cfg)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    assert count(model.backbone.encoder) == encoder_params
    assert count(model.backbone.fusion) == 11_316_480  # LAVT's PWAMs+gates
    assert count(model) == total
    assert not model.backbone.fusion.gates[3][0].weight.requires_grad


CNN_LEAVES = [
    'lscm/lscm_r101-d8_1xb1-700k_refsegrs-320x320.py',
    'lscm/lscm_r101-d8_1xb1-700k_rrsisd-320x320.py',
    'cmpc/cmpc+_r101-d8_1xb1-700k_refsegrs-320x320.py',
    'cmpc/cmpc+_r101-d8_1xb1-700k_rrsisd-320x320.py',
]


@pytest.mark.parametrize('name', CNN_LEAVES)
def test_lscm_cmpc_reference_recipe(name, helpers):
    """trainval_model.py / train_op of LSCM and CMPC: Adam 2.5e-4, poly
    0.9 to 1e-5 over 800k iterations, stopped at 700k, batch 1, L2 5e-4
    on the convolution weights only, 320x320, a frozen caffe-style DeepLab
    ResNet-101 with ImageNet weights, GloVe 300-d + LSTM 1000."""
    cfg = Config.fromfile(osp.join(helpers.configs, name))
    assert cfg.default_scope == 'mmrrsis'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay, opt.eps) == ('Adam', 2.5e-4,
                                                             5e-4, 1e-8)
    paramwise = cfg.optim_wrapper.paramwise_cfg
    assert (paramwise.bias_decay_mult, paramwise.norm_decay_mult) == (0, 0)
    assert set(paramwise.custom_keys) == {'text_encoder', 'conv_lstm'}
    (poly, ) = cfg.param_scheduler
    assert (poly.power, poly.eta_min, poly.end, poly.by_epoch) == (
        0.9, 1e-5, 800000, False)
    assert (cfg.train_cfg.type, cfg.train_cfg.max_iters) == (
        'IterBasedTrainLoop', 700000)
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.default_hooks.checkpoint.by_epoch is False
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        steps = [t.type for t in loader.dataset.pipeline]
        resize = loader.dataset.pipeline[steps.index('Resize')]
        assert resize.scale == (320, 320)
        assert ('LoadExpressionParse' in steps) == ('lscm' in name)
        if 'lscm' in name:
            assert steps.index('CleanText') < steps.index(
                'LoadExpressionParse')
    model = cfg.model
    assert model.data_preprocessor.bgr_to_rgb is False
    assert model.data_preprocessor.std == [1., 1., 1.]
    backbone = model.backbone
    assert (backbone.type, backbone.depth, backbone.style) == ('ResNet',
                                                               101, 'caffe')
    assert (backbone.strides, backbone.dilations) == ((1, 2, 1, 1),
                                                      (1, 1, 2, 4))
    assert backbone.frozen_stages == 4 and backbone.norm_eval
    assert 'resnet101_caffe' in backbone.init_cfg.checkpoint
    text = model.text_encoder
    assert (text.type, text.embed_dims, text.hidden_dims) == (
        'LSTMTextEncoder', 300, 1000)
    assert text.embeddings.endswith('glove_embeddings.npy')
    head = model.decode_head
    assert (head.channels, head.vis_channels, head.feat_size) == (500, 1000,
                                                                  (40, 40))
    assert head.loss_decode == dict(type='BinaryLogisticLoss',
                                    reduction='image_sum')
    if 'lscm' in name:
        assert (text.max_tokens, text.sentence, text.use_parse) == (30, 'max',
                                                                    True)
        assert head.type == 'LSCMHead' and head.final_loss_weight == 0.6
        assert head.refine_order == (3, 2, 1, 0, 1, 2, 3)
    else:
        assert (text.max_tokens, text.sentence) == (20, None)
        assert not text.get('use_parse', False)
        assert head.type == 'CMPCHead' and head.final_loss_weight == 0.7
    if 'rrsisd' in name:
        assert cfg.train_dataloader.dataset.text_mode == 'all'
        assert text.vocab.startswith('data/rrsisd/')


@pytest.mark.parametrize('name,head_params', [
    ('lscm_r101-d8', 76_573_505),
    ('cmpc+_r101-d8', 67_218_008),
])
def test_lscm_cmpc_full_size_parameters(name, head_params, helpers):
    """The full-size models build offline; their counts (README)."""
    from mmrrsis.models.text_encoders import LSTMTextEncoder
    cfg = helpers.model_cfg(name)
    cfg['text_encoder'] = LSTMTextEncoder.offline_cfg(cfg['text_encoder'])
    cfg['backbone'].pop('init_cfg')
    model = helpers.build_model(cfg)

    def count(module):
        return sum(p.numel() for p in module.parameters())

    words = model.text_encoder.embedding.num_embeddings
    print(f'{name}: {count(model):,} parameters (backbone '
          f'{count(model.backbone):,}, LSTM {count(model.text_encoder.lstm):,}'
          f', {words} x 300 word vectors, head {count(model.decode_head):,})')
    assert count(model.backbone) == 42_500_160  # ResNet-101, no fc
    assert count(model.text_encoder.lstm) == 4 * 1000 * 1300 + 8000
    assert count(model.decode_head) == head_params
    assert count(model) == 42_500_160 + 5_208_000 + 300 * words + \
        head_params
    # the backbone is frozen: only the text encoder and the head train
    assert not any(p.requires_grad for p in model.backbone.parameters())


@pytest.mark.parametrize('name', ['lscm', 'cmpc+'])
def test_lscm_cmpc_twins(name, helpers):
    """The synthetic twins keep the LGCE twin's data, budget and seed."""
    twin = Config.fromfile(osp.join(helpers.configs, f'{name}_synthetic.py'))
    lgce = Config.fromfile(osp.join(helpers.configs, 'lgce_synthetic.py'))
    for key in ('train_cfg', 'optim_wrapper', 'param_scheduler',
                'randomness', 'val_evaluator'):
        assert twin[key] == lgce[key], key
    assert twin.train_dataloader.batch_size == 8
    assert twin.train_dataloader.dataset.type == 'SyntheticRefSegRSDataset'
    tiny = Config.fromfile(osp.join(
        helpers.configs, 'tiny', f'{name}_r18-tiny_refsegrs-64x64.py'))
    assert tiny.model.text_encoder.vocab == 'mmrrsis-tiny-words'
    assert tiny.train_dataloader.batch_size == 2


def test_lscm_weight_decay_is_the_references_l2(helpers):
    """The references' L2 penalty covers the weights of their own
    convolutions only ('DW'): no decay on biases, norms, the LSTM, the word
    vectors or the ConvLSTM; the frozen backbone is not optimised."""
    cfg = Config.fromfile(osp.join(helpers.configs, CNN_LEAVES[0]))
    model = helpers.build_model(
        helpers.leaf_model_cfg('tiny/lscm_r18-tiny_refsegrs-64x64.py'))
    model.backbone.requires_grad_(False)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    decay = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optim.optimizer.param_groups:
        for param in group['params']:
            decay[names[id(param)]] = group['weight_decay']
    assert not any(n.startswith('backbone.') for n in decay)
    assert decay['decode_head.laterals.0.weight'] == 5e-4
    assert decay['decode_head.mutan.0.lang_trans.weight'] == 5e-4
    assert decay['decode_head.context.0.graph_conv.update.weight'] == 5e-4
    for name in ('decode_head.laterals.0.bias',
                 'decode_head.context.0.graph_conv.gather_norm.weight',
                 'decode_head.conv_lstm.cell.conv.weight',
                 'decode_head.conv_lstm.cell.peephole_i',
                 'text_encoder.embedding.weight',
                 'text_encoder.lstm.weight_ih_l0'):
        assert decay[name] == 0, name


DICOR = 'dicor/dicor-{}_refsegrs-480x480.py'


def test_dicor_stage_recipes(helpers):
    """DiCoR's scripts: coarse AdamW 3e-5 batch 8 40 epochs CE + Dice with
    snapshots; refiner lr 1e-4 wd 1e-4 batch 16 40 epochs from the bank;
    guide evidence 8e-4 / ranker 5e-4 wd 1e-4 40 epochs, coarse frozen;
    joint 10 epochs, text norm 1e-4, LVMSF and decoder 1e-6, rest frozen;
    each stage loading the previous one."""

    def load(stage):
        return Config.fromfile(
            osp.join(helpers.configs, DICOR.format(stage)))

    coarse = load('coarse_swin-b_1xb8-40e')
    opt = coarse.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay) == (3e-5, 1e-2)
    assert coarse.train_dataloader.batch_size == 8
    assert coarse.train_cfg.max_epochs == 40
    assert coarse.model.stage == 'coarse'
    assert coarse.model.neck.type == 'VMSFNeck'
    assert coarse.model.neck.num_blocks == 3
    ce, dice = coarse.model.decode_head.loss_decode
    assert (ce.class_weight, dice.reduction) == ([0.9, 1.1], 'mean')
    hooks = {h.type: h for h in coarse.custom_hooks}
    assert hooks['EpochSnapshotHook'].epochs == [10, 15, 20, 30, 39]
    assert 'BestCheckpointLinkHook' in hooks
    coarse_dir = 'work_dirs/dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480'

    refiner = load('refiner_swin-b_1xb16-40e')
    assert refiner.load_from == coarse_dir + '/best.pth'
    opt = refiner.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay) == (1e-4, 1e-4)
    assert not refiner.optim_wrapper.paramwise_cfg
    assert refiner.train_dataloader.batch_size == 16
    dataset = refiner.train_dataloader.dataset
    assert dataset.type == 'PromptBankDataset'
    assert dataset.bank_dir == coarse_dir + '/prompt_bank'
    assert dataset.dataset.type == 'RefSegRSDataset'
    assert refiner.model.refiner.base_channels == 64
    assert set(refiner.model.frozen) == {
        'text_encoder', 'backbone', 'neck', 'decode_head'}

    guide = load('guide_swin-b_1xb8-40e')
    assert guide.load_from == coarse_dir + '/best.pth'
    opt = guide.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay) == (5e-4, 1e-4)
    evidence = guide.optim_wrapper.paramwise_cfg.custom_keys[
        'localization_guide.evidence_head']
    assert opt.lr * evidence.lr_mult == pytest.approx(8e-4)
    assert guide.train_cfg.max_epochs == 40
    assert guide.model.localization_guide.guide_text is False
    assert {'backbone', 'neck', 'decode_head'} <= set(guide.model.frozen)

    joint = load('joint_swin-b_1xb8-10e')
    assert joint.load_from.endswith('dicor-guide_swin-b_1xb8-40e_'
                                    'refsegrs-480x480/epoch_40.pth')
    opt = joint.optim_wrapper.optimizer
    assert (opt.lr, opt.weight_decay) == (1e-6, 1e-2)
    text_norm = joint.optim_wrapper.paramwise_cfg.custom_keys[
        'localization_guide.text_norm']
    assert opt.lr * text_norm.lr_mult == pytest.approx(1e-4)
    assert opt.weight_decay * text_norm.decay_mult == pytest.approx(1e-4)
    assert joint.train_cfg.max_epochs == 10
    assert joint.param_scheduler[0].end == 10
    assert joint.train_dataloader.dataset.type == 'RefSegRSDataset'
    assert joint.model.neck.type == 'LVMSFNeck'
    # the reference's joint stage: LVMSF blocks from random init
    assert joint.model.neck.carry_vmsf_blocks is False
    assert joint.model.refiner.init_cfg.type == 'SafePretrained'
    assert joint.model.test_cfg.refine is False
    assert set(joint.model.frozen) == {
        'text_encoder', 'backbone', 'localization_guide.evidence_head',
        'localization_guide.ranker', 'refiner'}
    full = Config.fromfile(
        osp.join(helpers.configs, 'dicor/dicor_swin-b_refsegrs-480x480.py'))
    assert full.model.test_cfg.refine and full.load_from is None
    for cfg in (coarse, refiner, guide, joint, full):
        assert cfg.default_scope == 'mmrrsis'
        text = cfg.model.text_encoder
        assert (text.max_tokens, text.truncation) == (20, 'reference')
        assert text.frozen_layers == [10, 11]


@pytest.mark.parametrize('name,tokens', [('rrsisd', 22), ('risbench', 50)])
def test_dicor_stages_on_rrsisd_and_risbench(helpers, name, tokens):
    """DiCoR's scripts run every stage with the dataset as an argument and
    the RefSegRS settings otherwise: each stage config is its RefSegRS
    twin with the set's datainfo JSON lines (as DiCoR's loader reads them,
    its left-out files excluded), its token limit, and this set's work
    dirs."""
    stages = ('coarse_swin-b_1xb8-40e', 'refiner_swin-b_1xb16-40e',
              'guide_swin-b_1xb8-40e', 'joint_swin-b_1xb8-10e')

    def load(stage, dataset):
        path = (f'dicor/dicor_swin-b_{dataset}-480x480.py' if stage is None
                else f'dicor/dicor-{stage}_{dataset}-480x480.py')
        return Config.fromfile(osp.join(helpers.configs, path))

    def plain(cfg):
        return {k: cfg[k] for k in ('model', 'optim_wrapper', 'train_cfg',
                                    'param_scheduler', 'custom_hooks')
                if k in cfg}

    def datasets(cfg):
        train = cfg.train_dataloader.dataset
        if train.type == 'PromptBankDataset':
            train = train.dataset
        return [train, cfg.val_dataloader.dataset,
                cfg.test_dataloader.dataset]

    for stage in stages + (None, ):
        ours, twin = load(stage, name), load(stage, 'refsegrs')
        mine, theirs = plain(ours), plain(twin)
        assert mine['model'].pop('text_encoder').max_tokens == tokens
        theirs['model'].pop('text_encoder')
        refiner = mine['model'].get('refiner') or {}
        if (refiner.get('init_cfg') or {}).get('checkpoint'):
            assert name in refiner['init_cfg']['checkpoint']
            assert 'refsegrs' in theirs['model']['refiner']['init_cfg'][
                'checkpoint']
            refiner['init_cfg'].pop('checkpoint')
            theirs['model']['refiner']['init_cfg'].pop('checkpoint')
        assert mine == theirs, stage
        assert ours.train_dataloader.batch_size == \
            twin.train_dataloader.batch_size
        for split, dataset in zip(('train', 'val', 'test'), datasets(ours)):
            assert (dataset.type, dataset.dataset, dataset.split) == (
                'JSONLReferringDataset', name, split)
            assert dataset.exclude_files == 'dicor'
            assert dataset.ann_file is None and dataset.data_prefix is None
        if ours.load_from:
            assert f'_{name}-480x480/' in ours.load_from
        if ours.train_dataloader.dataset.type == 'PromptBankDataset':
            assert f'_{name}-480x480/prompt_bank' in \
                ours.train_dataloader.dataset.bank_dir


def test_dicor_swin_b_parameter_counts(helpers):
    """Built offline: the coarse model 242,094,394 (LAVT + VMSF), the full
    test model 303,842,463 (+ guide, LVMSF instead of VMSF, refiner)."""

    def count(module):
        return sum(p.numel() for p in module.parameters())

    for name, total in (('coarse_swin-b_1xb8-40e', 242_094_394),
                        (None, 303_842_463)):
        path = 'dicor/dicor_swin-b_refsegrs-480x480.py' if name is None \
            else DICOR.format(name)
        cfg = helpers.leaf_model_cfg(path)
        cfg['text_encoder'].update(
            pretrained=None, bert_config=dict(), vocab='mmrrsis-tiny')
        cfg['backbone']['init_cfg'] = None
        if cfg.get('refiner'):
            cfg['refiner']['init_cfg'] = None
        cfg['decode_head']['norm_cfg'] = dict(type='BN', requires_grad=True)
        model = helpers.build_model(cfg)
        assert count(model) == total
        assert count(model.text_encoder) == 108_891_648
        if name is None:
            assert count(model.localization_guide) == 1_630_723
            assert count(model.refiner) == 31_038_274
            assert count(model.neck) == 43_433_952
        else:
            assert count(model.neck) == 14_354_880
        del model
