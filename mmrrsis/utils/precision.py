"""Mixed-precision inference: one switch, ``precision='fp32' | 'bf16' |
'fp16'``, for the inferencers, scenes, ``tools/test.py`` and the app.

``bf16`` and ``fp16`` run the model under :func:`torch.autocast`
(matrix multiplies and convolutions in half precision, reductions and
the PWAM fusion in float32, as in training: ``PWAMFusion(fp32_in_amp=
True)``); outputs are turned back into float32 before anything is
averaged or thresholded. ``bf16`` is for CPUs (fast with AVX512-BF16 or
AMX) and CUDA; ``fp16`` is for CUDA only.
"""
import contextlib
import logging
from typing import ContextManager

import torch
from mmengine.logging import print_log

#: The precisions of inference.
PRECISIONS = ('fp32', 'bf16', 'fp16')
_DTYPES = dict(bf16=torch.bfloat16, fp16=torch.float16)
_warned = set()


def check_precision(precision: str, device: str = 'cpu') -> str:
    """Validate ``precision`` for ``device`` and return it.

    Raises:
        ValueError: Unknown precision, or fp16 without CUDA.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    kind = torch.device(device).type
    if precision == 'fp16' and kind != 'cuda':
        raise ValueError(
            "precision='fp16' needs a CUDA device (half-precision matrix "
            "multiplies on CPUs are emulated and slow); use 'bf16' on CPUs")
    if precision == 'bf16' and kind == 'cpu' and 'bf16' not in _warned:
        if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
            _warned.add('bf16')
            print_log(
                "precision='bf16': this CPU has no native bfloat16 "
                '(AVX512-BF16 or AMX); it works, but may be slower than '
                'float32', logger='current', level=logging.WARNING)
    return precision


def autocast_context(precision: str, device: str = 'cpu') -> ContextManager:
    """A context that runs the model's forward in ``precision``.

    Args:
        precision (str): ``'fp32'`` (nothing changes), ``'bf16'`` or
            ``'fp16'``.
        device (str): Where the model runs ('cpu', 'cuda', 'cuda:1').
            Defaults to 'cpu'.

    Returns:
        A context manager (:func:`torch.autocast` or a no-op).
    """
    check_precision(precision, device)
    if precision == 'fp32':
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type,
                          dtype=_DTYPES[precision])


__all__ = ['PRECISIONS', 'autocast_context', 'check_precision']
