"""Training machinery specific to mmrrsis."""
from .runner import RRSISRunner, init_cpu_dist

__all__ = ['RRSISRunner', 'init_cpu_dist']
