"""Mixed precision by autocast alone, on CPU or GPU.

mmengine's ``AmpOptimWrapper`` refuses to run without CUDA, but recent CPUs
(AMX-BF16, AVX512-BF16) run bfloat16 matrix multiplies and convolutions
several times faster than float32. bfloat16 has float32's exponent range, so
it needs no loss scaling: entering :func:`torch.autocast` around the forward
pass is all there is to it. ``tools/train.py --amp`` picks this wrapper on
machines without a GPU.
"""
from contextlib import contextmanager, nullcontext
from typing import Optional, Union

import torch
from mmengine.device import get_device
from mmengine.optim import OptimWrapper

from mmrrsis.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """An :class:`~mmengine.optim.OptimWrapper` that runs forward under
    :func:`torch.autocast`, without a gradient scaler.

    Args:
        dtype (str | torch.dtype, optional): Autocast dtype. Defaults to
            ``'bfloat16'``; ``'float16'`` is accepted on CUDA only, where
            mmengine's ``AmpOptimWrapper`` (with loss scaling) is the better
            choice. None turns autocast off (for subclasses that add
            something else).
        device_type (str, optional): ``'cpu'`` or ``'cuda'``; None takes the
            device mmengine trains on. Defaults to None.
        **kwargs: Passed to :class:`~mmengine.optim.OptimWrapper`
            (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self,
                 dtype: Optional[Union[str, torch.dtype]] = 'bfloat16',
                 device_type: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise ValueError('AutocastOptimWrapper dtype must be '
                                 f"'bfloat16' or 'float16', got '{dtype}'")
            dtype = getattr(torch, dtype)
        self.device_type = device_type or get_device()
        if self.device_type == 'cpu' and dtype == torch.float16:
            raise ValueError('float16 autocast is not supported on CPU; use '
                             "dtype='bfloat16'")
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        """Gradient-accumulation context of mmengine plus autocast."""
        if self.cast_dtype is None:
            cast = nullcontext()
        else:
            cast = torch.autocast(
                device_type=self.device_type, dtype=self.cast_dtype)
        with super().optim_context(model), cast:
            yield
