# Tiny LAVT on the RRSIS-D layout, for tests and CPU demos: the tiny model,
# 64x64 pipelines and schedule of lavt_swin-tiny_refsegrs-64x64.py (nothing
# is downloaded) on RRSIS-D's files, one epoch. Every sentence is its own
# training sample here (text_mode='all'), so the base's pipelines serve as
# they are; LAVT's recipe draws one sentence per ref and epoch instead
# ('random' + RandomSentence, as configs/_base_/datasets/rrsisd.py).
# Evaluation scores on each mask's own grid: RRSIS-D images whose size
# differs from their mask are resampled to it (one warning per split).
_base_ = ['./lavt_swin-tiny_refsegrs-64x64.py']
data_root = 'data/rrsisd'
train_gsd = None  # RRSIS-D: 0.5 m to 30 m a pixel, no single value
rrsisd = dict(_delete_=True, type='RRSISDDataset', data_root=data_root)
train_dataloader = dict(
    dataset=dict(
        rrsisd,
        split='train',
        text_mode='all',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(rrsisd, split='val', pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(
    dataset=dict(rrsisd, split='test', pipeline={{_base_.test_pipeline}}))
train_cfg = dict(max_epochs=1)
