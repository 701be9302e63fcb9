# RRSIS-D from the datainfo JSON lines of RSRefSeg2 / DiCoR:
#   <data_root>/datainfo/rrsisd_{train,val,test}.jsonl
#   <data_root>/images/rrsisd/JPEGImages/*.jpg
# One sentence a line (the ref's first), the category from category_name,
# the mask from the line's list of one RLE, in file order as DiCoR's
# data/refdataset.py reads them. DiCoR leaves 27 RRSIS-D images out of
# every split: exclude_files='dicor' does the same (default: none).
# Pipelines and evaluator as refsegrs_jsonl.py (one sentence a sample).
_base_ = ['./refsegrs_jsonl.py']
# RRSIS-D's images range from 0.5 m to 30 m a pixel (see rrsisd.py)
train_gsd = None
rrsisd_files = dict(data_root='data/rrsisd', dataset='rrsisd')
train_dataloader = dict(dataset=rrsisd_files)
val_dataloader = dict(dataset=rrsisd_files)
test_dataloader = dict(dataset=rrsisd_files)
