# CMPC+ (Liu et al., TPAMI 2021; spyflying/CMPC-Refseg, CMPC_model.py, the
# repository's updated image model) as the RRSIS paper benchmarks it:
# - the frozen DeepLab ResNet-101 of lscm_r101-d8.py (caffe style, output
#   stride 8, ImageNet weights, caffe's BGR means);
# - words: GloVe (300-d) + one LSTM of 1000 units, at most 20 words split
#   at non-word characters; no sentence vector (CMPC builds its own);
# - CMPCHead: levels C3-C5 to 1000 channels; word roles (entity,
#   attribute, relation, unnecessary) learned by the model; MUTAN fusion
#   with the entity-attribute sentence; relation-guided graph reasoning
#   over the pixels; fusion to 500 channels; text-guided feature exchange
#   twice; a ConvLSTM over C3 C4 C5; one logit per pixel; loss
#   0.7 x final + 0.1 x each level.
_base_ = ['./lscm_r101-d8.py']
model = dict(
    text_encoder=dict(
        _delete_=True,
        type='LSTMTextEncoder',
        vocab='data/RefSegRS/vocabulary.txt',
        embeddings='data/RefSegRS/glove_embeddings.npy',
        embed_dims=300,
        hidden_dims=1000,
        max_tokens=20,
        sentence=None),
    decode_head=dict(
        _delete_=True,
        type='CMPCHead',
        in_channels=[512, 1024, 2048],
        in_index=(1, 2, 3),
        lateral_strides=(1, 1, 1),
        channels=500,
        vis_channels=1000,
        text_channels=1000,
        refine_order=(0, 1, 2),
        role_channels=500,
        exchange_rounds=2,
        feat_size=(40, 40),
        align_corners=False,
        final_loss_weight=0.7,
        level_loss_weight=0.1,
        loss_decode=dict(type='BinaryLogisticLoss', reduction='image_sum')))
