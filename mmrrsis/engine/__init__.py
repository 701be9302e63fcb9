"""Training machinery specific to mmrrsis."""
from .data_check import DataNotFoundError, check_data_roots
from .logger_hook import RRSISLoggerHook
from .optimizers import AutocastOptimWrapper, StepInBackwardOptimWrapper
from .runner import RRSISRunner, build_runner, destroy_dist, init_cpu_dist

__all__ = [
    'AutocastOptimWrapper', 'DataNotFoundError', 'RRSISLoggerHook',
    'RRSISRunner', 'StepInBackwardOptimWrapper', 'build_runner',
    'check_data_roots', 'destroy_dist', 'init_cpu_dist'
]
