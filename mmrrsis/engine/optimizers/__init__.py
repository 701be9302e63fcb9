"""Optimizer wrappers of mmrrsis."""
from .autocast_optim_wrapper import AutocastOptimWrapper
from .step_in_backward_optim_wrapper import StepInBackwardOptimWrapper

__all__ = ['AutocastOptimWrapper', 'StepInBackwardOptimWrapper']
