# RISBench from the datainfo JSON lines of RSRefSeg2 / DiCoR:
#   <data_root>/datainfo/risbench_{train,val,test}.jsonl
#   <data_root>/img_rgb/<file>   (images/ when img_rgb/ is absent)
# In file order, masks decoded from each line's RLE, as DiCoR's
# data/refdataset.py reads them (exclude_files='dicor' also leaves out the
# 16 files DiCoR skips). Pipelines and evaluator as refsegrs_jsonl.py.
_base_ = ['./refsegrs_jsonl.py']
# 0.1 m to 30 m a pixel: no single ground resolution
train_gsd = None
risbench_files = dict(data_root='data/RISBench', dataset='risbench')
train_dataloader = dict(dataset=risbench_files)
val_dataloader = dict(dataset=risbench_files)
test_dataloader = dict(dataset=risbench_files)
