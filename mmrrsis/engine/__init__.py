"""Training machinery specific to mmrrsis."""
from .checkpoint_hook import RRSISCheckpointHook
from .data_check import DataNotFoundError, check_data_roots
from .dist_timeout import DistTimeoutError, naming_dist_timeouts
from .flexible_runner import RRSISFlexibleRunner
from .logger_hook import RRSISLoggerHook
from .loops import RRSISEpochBasedTrainLoop
from .optimizers import AutocastOptimWrapper, StepInBackwardOptimWrapper
from .resume_files import ResumeError, find_resumable
from .resume_state import (
    get_rng_state,
    message_hub_from_plain,
    plain_message_hub,
    set_rng_state,
)
from .runner import RRSISRunner, build_runner, destroy_dist, init_cpu_dist
from .split_evaluation import (
    SplitEvaluator,
    SplitMismatchError,
    benchmark_models,
    parse_model_spec,
    split_test_config,
)
from .stage_hooks import BestCheckpointLinkHook, EpochSnapshotHook
from .strategies import (
    STRATEGY_PRESETS,
    RRSISDeepSpeedStrategy,
    RRSISFSDPStrategy,
    StrategyUnavailableError,
    apply_strategy,
)
from .worker_seed import epoch_worker_init_fn

__all__ = [
    'AutocastOptimWrapper', 'BestCheckpointLinkHook', 'EpochSnapshotHook',
    'DataNotFoundError', 'DistTimeoutError',
    'RRSISCheckpointHook', 'RRSISDeepSpeedStrategy',
    'RRSISEpochBasedTrainLoop', 'RRSISFSDPStrategy', 'RRSISFlexibleRunner',
    'RRSISLoggerHook', 'RRSISRunner', 'STRATEGY_PRESETS', 'ResumeError',
    'StepInBackwardOptimWrapper', 'StrategyUnavailableError',
    'apply_strategy',
    'build_runner', 'check_data_roots', 'destroy_dist',
    'epoch_worker_init_fn', 'find_resumable', 'get_rng_state',
    'init_cpu_dist', 'message_hub_from_plain', 'naming_dist_timeouts',
    'plain_message_hub', 'set_rng_state',
    'SplitEvaluator', 'SplitMismatchError', 'benchmark_models',
    'parse_model_spec', 'split_test_config'
]
