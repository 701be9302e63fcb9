# LAVT on mmpretrain's ConvNeXt-B: the recipe and the model of
# configs/lavt_swin-b.py (BERT-base, PWAM + gate after every stage, LAVT's
# decoder, AdamW 5e-5, 40 epochs, 4 GPUs x batch 8, 480x480) with the Swin
# replaced by mmpretrain.ConvNeXt (arch 'base': widths 128-1024, depths
# 3-3-27-3), run unchanged under LanguageAwareBackbone: each stage's
# fusion comes after its blocks and before the next downsampling layer.
# Weights: mmpretrain's ImageNet-21k ConvNeXt-B (model index name
# convnext-base_3rdparty_in21k; the counterpart of LAVT's ImageNet-22k
# Swin-B), a classification checkpoint whose backbone keys start with
# 'backbone.'. Check the files before a run:
# python tools/misc/check_weights.py THIS_CONFIG
_base_ = ['../lavt/lavt_swin-b_4xb8-40e_refsegrs-480x480.py']
convnext_checkpoint = 'https://download.openmmlab.com/mmclassification/v0/convnext/convnext-base_3rdparty_in21k_20220124-13b83eec.pth'  # noqa: E501
model = dict(
    backbone=dict(
        _delete_=True,
        type='LanguageAwareBackbone',
        encoder=dict(
            type='mmpretrain.ConvNeXt',
            arch='base',
            drop_path_rate=0.3,
            layer_scale_init_value=1.0,
            gap_before_final_norm=False,
            out_indices=[0, 1, 2, 3],
            init_cfg=dict(
                type='Pretrained',
                checkpoint=convnext_checkpoint,
                prefix='backbone.')),
        fusion_cfg=dict(
            type='PWAMFusion',
            text_channels=768,
            num_heads=1,
            dropout=0.,
            gate_init='zeros')))
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
