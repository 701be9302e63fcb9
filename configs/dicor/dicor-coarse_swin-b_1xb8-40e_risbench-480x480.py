# DiCoR stage 1 of 4 on RISBench: the coarse model (LAVT + VMSF). DiCoR's
# scripts take the dataset as an argument (DATASET=risbench) and keep every
# other setting, so this is the RefSegRS recipe on RISBench.
# Data: configs/_base_/datasets/dicor_risbench.py.
# The whole pipeline: bash tools/misc/dicor_pipeline.sh risbench [GPUS]
_base_ = [
    './dicor-coarse_swin-b_1xb8-40e_refsegrs-480x480.py',
    '../_base_/datasets/dicor_risbench.py'
]
train_dataloader = dict(dataset={{_base_.dicor_train}})
val_dataloader = dict(dataset={{_base_.dicor_val}})
test_dataloader = dict(dataset={{_base_.dicor_test}})
model = dict(text_encoder={{_base_.dicor_text_encoder}})
