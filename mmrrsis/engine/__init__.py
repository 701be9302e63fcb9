"""Training machinery specific to mmrrsis."""
from .data_check import DataNotFoundError, check_data_roots
from .optimizers import AutocastOptimWrapper
from .runner import RRSISRunner, init_cpu_dist

__all__ = [
    'AutocastOptimWrapper', 'DataNotFoundError', 'RRSISRunner',
    'check_data_roots', 'init_cpu_dist'
]
