"""Initialise a module from a checkpoint (or a part of one) without running
code from the file."""
import logging
from typing import Optional

from mmengine.logging import print_log
from mmengine.model.weight_init import BaseInit
from torch import nn

from mmrrsis.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module(name='SafePretrained')
class SafePretrainedInit(BaseInit):
    """mmengine's ``Pretrained`` init, read the way mmrrsis reads every
    checkpoint (:func:`mmrrsis.compat.load_checkpoint_file`: weights and
    plain data only, so mmrrsis' own checkpoints, whose meta holds numpy
    values, load where ``torch.load(weights_only=True)`` refuses them).

    ``init_cfg=dict(type='SafePretrained', checkpoint=..., prefix=...)``:
    with ``prefix`` (e.g. ``'refiner.'``) only the checkpoint's keys under
    it are used, without it; the load is strict unless ``strict=False``
    (missing or unexpected keys raise, naming them and the file). DiCoR's
    joint stage takes its refiner from the refiner stage's checkpoint this
    way.

    Args:
        checkpoint (str): Checkpoint file.
        prefix (str, optional): Keep only the keys under this prefix.
            Defaults to None.
        strict (bool): Defaults to True.
        map_location (str): Defaults to ``'cpu'``.
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: Optional[str] = None,
                 strict: bool = True,
                 map_location: str = 'cpu') -> None:
        super().__init__()
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.strict = strict
        self.map_location = map_location

    def __call__(self, module: nn.Module) -> None:
        from mmrrsis.compat import load_checkpoint_file

        ckpt = load_checkpoint_file(
            self.checkpoint, map_location=self.map_location)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt,
                                                           dict) else ckpt
        if self.prefix:
            state = {
                k[len(self.prefix):]: v
                for k, v in state.items() if k.startswith(self.prefix)
            }
            if not state:
                raise KeyError(
                    f'{self.checkpoint} holds no key under "{self.prefix}"; '
                    'is it the checkpoint of the right stage?')
        missing, unexpected = module.load_state_dict(state, strict=False)
        if self.strict and (missing or unexpected):
            raise KeyError(
                f'{self.checkpoint} ({self.prefix or "all keys"}) does not '
                f'fit {type(module).__name__}: missing {missing[:5]}, '
                f'unexpected {unexpected[:5]}.')
        print_log(
            f'{type(module).__name__} initialised from {self.checkpoint}' +
            (f' ({self.prefix}*)' if self.prefix else ''),
            logger='current',
            level=logging.INFO)

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'


__all__ = ['SafePretrainedInit']
