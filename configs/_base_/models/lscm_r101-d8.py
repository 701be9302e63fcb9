# LSCM (Hui et al., ECCV 2020; spyflying/LSCM-Refseg, LSCM_model_p2345.py)
# as the RRSIS paper benchmarks it:
# - DeepLab ResNet-101 (caffe style: stride on the 1x1 convolution, 7x7
#   stem; C4 and C5 dilated 2 and 4, output stride 8), ImageNet weights,
#   frozen with its batch-norm statistics (the reference trains only its
#   own layers); images as caffe's: BGR, mean subtracted, not scaled;
# - words: GloVe (300-d) + one LSTM of 1000 units over the tokens of the
#   expression's dependency parse (at most 30), sentence = maximum over the
#   words; the parse graph from the data pipeline (LoadExpressionParse);
# - LSCMHead: levels C2-C5 to 1000 channels, MUTAN fusion (5 heads), the
#   parse-guided word graph, fusion to 500 channels, a ConvLSTM over
#   C5 C4 C3 C2 C3 C4 C5, one logit per pixel; loss 0.6 x final + 0.1 x each
#   level, sigmoid cross-entropy summed over each image's pixels.
# The vocabulary and its GloVe vectors are files of the dataset, written by
#   python tools/dataset_converters/build_word_vocab.py CONFIG \
#       --glove glove.840B.300d.txt
# (the vectors are read before training only, not to test a checkpoint).
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='RRSISDataPreProcessor',
    # caffe's BGR means (the references' mu), no scaling
    mean=[104.00698793, 116.66876762, 122.67891434],
    std=[1., 1., 1.],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255,
    size_divisor=8)
model = dict(
    type='RRSISEncoderDecoder',
    data_preprocessor=data_preprocessor,
    text_encoder=dict(
        type='LSTMTextEncoder',
        vocab='data/RefSegRS/vocabulary.txt',
        embeddings='data/RefSegRS/glove_embeddings.npy',
        embed_dims=300,
        hidden_dims=1000,
        max_tokens=30,
        sentence='max',
        use_parse=True,
        non_edge_weight=0.1),
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=False,
        style='caffe',
        norm_cfg=norm_cfg,
        norm_eval=True,
        frozen_stages=4,
        # MSRA's ImageNet ResNet-101 (caffe), DeepLab's initialisation
        init_cfg=dict(
            type='Pretrained',
            checkpoint='open-mmlab://detectron/resnet101_caffe')),
    decode_head=dict(
        type='LSCMHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=(0, 1, 2, 3),
        lateral_strides=(2, 1, 1, 1),
        channels=500,
        vis_channels=1000,
        text_channels=1000,
        refine_order=(3, 2, 1, 0, 1, 2, 3),
        # the fused grid at 320 x 320 (stride 8)
        feat_size=(40, 40),
        align_corners=False,
        final_loss_weight=0.6,
        level_loss_weight=0.1,
        loss_decode=dict(type='BinaryLogisticLoss', reduction='image_sum')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
