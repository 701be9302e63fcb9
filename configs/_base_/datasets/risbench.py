# RISBench (CroBIM, HIT-SIRS/CroBIM; 52,472 triplets, 512x512 PNG,
# 26 categories, 0.1-30 m a pixel). Layout under data_root, as RSRefSeg2's
# converter reads it (images/ and masks/ are read too):
#   img_rgb/<split>_<img>_<obj>.png   one image file per expression
#   mask/<split>_<img>_<obj>.png      its mask (the same name)
#   output_phrase_{train,val,test}.txt   "<file> <sentence ...>" a line
# Mask values are undocumented: mask_threshold='auto' reads each file as
# stored (0/1: 1 is target; 0/255: above 127.5); check_dataset.py counts
# the files of each kind. Generate a stand-in with the same layout:
#   python tools/dataset_converters/make_synthetic_refsegrs.py \
#       data/RISBench --layout risbench
# The rest (pipelines, evaluator, 480x480) as refsegrs.py.
_base_ = ['./refsegrs.py']
dataset_type = 'RISBenchDataset'
data_root = 'data/RISBench'
# No single ground resolution (0.1 m to 30 m a pixel): tools/infer_scene.py
# --gsd needs a value.
train_gsd = None
risbench_files = dict(
    type=dataset_type, data_root=data_root, data_prefix=None)
train_dataloader = dict(
    dataset=dict(risbench_files, ann_file='output_phrase_train.txt'))
val_dataloader = dict(
    dataset=dict(risbench_files, ann_file='output_phrase_val.txt'))
test_dataloader = dict(
    dataset=dict(risbench_files, ann_file='output_phrase_test.txt'))
