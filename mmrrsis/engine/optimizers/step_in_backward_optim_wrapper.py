"""Apply each parameter's update during the backward pass, then free its
gradient.

A plain training step holds a gradient for every trained parameter at the
end of the backward pass: 0.7 GiB for the 188M trained parameters of Swin-B
+ BERT-base, a fifth of what a checkpointed step needs at its peak. The
optimizers of LAVT's recipe (AdamW, SGD) update each parameter from its own
gradient and state alone, so the update can run as soon as that gradient is
complete (a post-accumulate-grad hook) and the gradient can be dropped at
once. The parameters come out exactly as after ``optimizer.step()``; only
the order of the per-parameter updates changes.

What this rules out (each gives an error when the wrapper is built):
gradient clipping and gradient accumulation (both need every gradient
before the first update), distributed data parallel training (DDP averages
the gradients after the hooks run) and optimizers whose update couples the
parameters (LBFGS and the like, which take a closure).
"""
import inspect
from functools import partial
from typing import Optional, Union

import torch
from mmengine.dist import get_world_size

from mmrrsis.registry import OPTIM_WRAPPERS

from .autocast_optim_wrapper import AutocastOptimWrapper


@OPTIM_WRAPPERS.register_module()
class StepInBackwardOptimWrapper(AutocastOptimWrapper):
    """An optimizer wrapper that updates every parameter inside the
    backward pass and frees its gradient right after, to save the memory of
    all gradients (peak memory of a training step minus the gradients of
    the trained parameters).

    The optimizer in the config is built as usual (parameter groups,
    ``paramwise_cfg``, learning-rate schedulers and checkpoints all work on
    it); each update calls the same optimizer class on one parameter with
    the options of that parameter's group at that moment (so scheduled
    learning rates apply) and the shared optimizer state.

    Args:
        optimizer (torch.optim.Optimizer): The optimizer; one whose step
            updates each parameter independently (AdamW, Adam, SGD, ...).
        dtype (str | torch.dtype, optional): Autocast dtype as in
            :class:`AutocastOptimWrapper` (``'bfloat16'``), or None for no
            autocast (float32). Defaults to None.
        device_type (str, optional): As in :class:`AutocastOptimWrapper`.
        **kwargs: Passed to :class:`~mmengine.optim.OptimWrapper`;
            ``clip_grad`` and ``accumulative_counts`` other than 1 are
            rejected.

    Example::

        optim_wrapper = dict(
            type='StepInBackwardOptimWrapper',
            optimizer=dict(type='AdamW', lr=5e-5, weight_decay=1e-2,
                           fused=True))
    """

    def __init__(self,
                 optimizer: torch.optim.Optimizer,
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 device_type: Optional[str] = None,
                 **kwargs):
        if kwargs.get('clip_grad'):
            raise ValueError(
                'StepInBackwardOptimWrapper cannot clip gradients: clipping '
                'needs all gradients before the first update. Remove '
                'optim_wrapper.clip_grad or use OptimWrapper.')
        if kwargs.get('accumulative_counts', 1) != 1:
            raise ValueError(
                'StepInBackwardOptimWrapper cannot accumulate gradients '
                f'(accumulative_counts={kwargs["accumulative_counts"]}): '
                'each update runs inside its backward pass. Use '
                'OptimWrapper.')
        if dtype in ('float16', torch.float16):
            raise ValueError(
                'StepInBackwardOptimWrapper takes dtype=\'bfloat16\' or '
                'None: float16 needs loss scaling, whose overflow check '
                'needs all gradients before the first update.')
        if get_world_size() > 1:
            raise RuntimeError(
                'StepInBackwardOptimWrapper does not work in distributed '
                'training: the update would run before DDP averages the '
                'gradients. Use OptimWrapper (with gradient checkpointing '
                'to save memory).')
        if isinstance(optimizer, torch.optim.LBFGS):
            raise ValueError(f'{type(optimizer).__name__} couples the '
                             'parameters; it cannot update them one by one.')
        super().__init__(
            optimizer=optimizer,
            dtype=dtype,
            device_type=device_type,
            **kwargs)
        self._hooks = []
        self._singles = {}
        for index, group in enumerate(optimizer.param_groups):
            for param in group['params']:
                if param.requires_grad:
                    self._hooks.append(
                        param.register_post_accumulate_grad_hook(
                            partial(self._step_param, index)))

    def _single(self, param: torch.Tensor) -> torch.optim.Optimizer:
        """An optimizer of the same class over ``param`` alone."""
        single = self._singles.get(param)
        if single is None:
            cls = type(self.optimizer)
            accepted = inspect.signature(cls.__init__).parameters
            # defaults may hold entries the constructor does not take
            # (AdamW's decoupled_weight_decay); the group update sets them
            single = cls([param], **{
                k: v
                for k, v in self.optimizer.defaults.items() if k in accepted
            })
            self._singles[param] = single
        return single

    @torch.no_grad()
    def _step_param(self, group_index: int, param: torch.Tensor) -> None:
        group = self.optimizer.param_groups[group_index]
        single = self._single(param)
        # the group's options now (a scheduler may have changed them) and
        # the wrapped optimizer's state (replaced when a checkpoint loads)
        single.param_groups[0].update(
            {k: v
             for k, v in group.items() if k != 'params'})
        single.state = self.optimizer.state
        single.step()
        param.grad = None

    def step(self, **kwargs) -> None:
        """Nothing left to do: every parameter was updated in backward."""

    def zero_grad(self, **kwargs) -> None:
        """Gradients are freed as they are used; drop any left over (a
        parameter trained but not in the wrapped optimizer)."""
        self.optimizer.zero_grad(set_to_none=True)

    def remove_hooks(self) -> None:
        """Stop updating in backward (e.g. before reusing the model with
        another optimizer)."""
        for handle in self._hooks:
            handle.remove()
        self._hooks = []
