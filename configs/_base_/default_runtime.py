# Runtime shared by every mmrrsis config.
default_scope = 'mmrrsis'
custom_imports = dict(imports=['mmrrsis'], allow_failed_imports=False)
# RRSISRunner = mmengine's Runner + distributed training on CPU (gloo).
runner_type = 'RRSISRunner'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'nccl' on GPUs; on CPUs use --cfg-options env_cfg.dist_cfg.backend=gloo.
    # timeout (seconds): how long a rank waits in a collective for the
    # others before the run fails, naming the rank and the collective (torch's
    # default is 30 min). 10 min covers the longest legitimate wait (rank 0
    # writing a Swin-B + BERT checkpoint with optimizer state, or generating
    # a dataset, while the others wait); raise it for slower storage.
    dist_cfg=dict(backend='nccl', timeout=600),
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # mmengine's LoggerHook; the test metrics file is written by rank 0 only
    logger=dict(
        type='RRSISLoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook, safe to kill (old files deleted only after
    # the new one is in place) and with what an exact --resume needs; keep
    # at least 2 so that --resume can fall back if the newest is damaged
    checkpoint=dict(
        type='RRSISCheckpointHook',
        by_epoch=True,
        interval=1,
        max_keep_ckpts=3,
        save_best='oIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # draws prediction, ground truth and expression (off unless draw=True;
    # tools/test.py --show-dir turns it on)
    visualization=dict(type='RRSISVisualizationHook'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='RRSISLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
# load_from / resume are checked like inference checkpoints: NaN/Inf, |w| >
# 1e6 and integer tensors for float weights stop the run; so do missing,
# unexpected or wrongly shaped keys unless load_from_strict = False (a
# partial load: what fits is loaded, every key skipped is logged)
load_from_strict = True
resume = False

tta_model = None
