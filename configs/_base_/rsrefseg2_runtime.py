# default_runtime.py with RSRefSeg2's engine and checkpoints: DeepSpeed
# ZeRO-2 in bf16 as the reference (CUDA GPUs, pip install -e
# ".[deepspeed]"), i.e. RRSISFlexibleRunner with RRSISDeepSpeedStrategy,
# gradient clipping 3.0 in the strategy. tools/train.py --strategy fsdp
# (FSDP, also on CPU processes) or --strategy ddp (the default runner;
# OptimWrapper with clip_grad) switch it.
_base_ = ['./default_runtime.py']
runner_type = 'RRSISFlexibleRunner'
strategy = dict(
    type='RRSISDeepSpeedStrategy',
    bf16=dict(enabled=True),
    gradient_clipping=3.0,
    inputs_to_half=['inputs'],
    zero_optimization=dict(
        stage=2,
        allgather_partitions=True,
        allgather_bucket_size=2e8,
        reduce_scatter=True,
        reduce_bucket_size='auto',
        overlap_comm=True,
        contiguous_gradients=True))
# validation every 10 epochs (the schedule), the 5 newest and the best by
# mIoU (the reference's gIoU_1) kept
default_hooks = dict(
    checkpoint=dict(
        interval=10, max_keep_ckpts=5, save_last=True, save_best='mIoU'))
# SAM 2's IoU / object-score heads and SigLIP's pooling head are trainable
# but unused by the loss (as in the reference): DDP must allow it
find_unused_parameters = True
