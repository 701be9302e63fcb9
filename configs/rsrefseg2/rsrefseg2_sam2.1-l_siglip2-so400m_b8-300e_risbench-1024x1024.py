# RSRefSeg2 on RISBench with the reference's recipe
# (configs_RSRefSeg2/risbench_training.py): the RRSIS-D recipe (lr 1e-4, 300
# epochs, cosine T_max 1.3 x 300 from epoch 30) on the datainfo JSON lines,
# which its loader reads (<data_root>/datainfo/risbench_{split}.jsonl, one
# expression a line; configs/_base_/datasets/risbench_jsonl.py).
# The reference validates on the test split; here on val, the best by mIoU.
_base_ = ['./rsrefseg2_sam2.1-l_siglip2-so400m_b8-300e_rrsisd-1024x1024.py']
risbench = dict(
    _delete_=True,
    type='JSONLReferringDataset',
    dataset='risbench',
    data_root='data/RISBench')
train_dataloader = dict(
    dataset=dict(risbench, split='train', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(risbench, split='val', pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(
    dataset=dict(risbench, split='test', pipeline={{_base_.test_pipeline}}))
