"""Building HuggingFace towers (SigLIP, SAM2) offline and loading their
pretrained weights later.

A tower component of mmrrsis builds its HuggingFace module from an
architecture written in the config (``*_config`` dicts), with random
weights, so building a model never reads the network; the pretrained
weights named by ``pretrained`` are loaded by ``init_weights()``, which
mmengine's runner calls before training (never at inference, where a
checkpoint supplies every weight).
"""
import os.path as osp
from typing import Callable, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import Tensor, nn


def normalize_channels(images: Tensor, mean: Sequence[float],
                       std: Sequence[float]) -> Tensor:
    """``(images - mean) / std`` per channel, in the images' dtype.

    Args:
        images (Tensor): (B, C, H, W).
        mean (Sequence[float]): C values.
        std (Sequence[float]): C values.

    Returns:
        Tensor: (B, C, H, W).
    """
    kwargs = dict(dtype=images.dtype, device=images.device)
    return (images - torch.tensor(mean, **kwargs).view(1, -1, 1, 1)) / \
        torch.tensor(std, **kwargs).view(1, -1, 1, 1)


def load_pretrained(loader: Callable[..., nn.Module], name: str,
                    option: str) -> nn.Module:
    """``loader(name)`` (a ``from_pretrained``), local files first.

    Args:
        loader (callable): E.g. ``SiglipModel.from_pretrained``.
        name (str): A local folder or a hub model id.
        option (str): The config key that names it, for the error.

    Returns:
        nn.Module: The loaded model.

    Raises:
        OSError: Neither in the local cache nor downloadable; the message
            names ``option``.
    """
    try:
        return loader(name, local_files_only=True)
    except OSError:
        if osp.isdir(name):
            raise
    try:
        return loader(name)
    except OSError as e:
        raise OSError(
            f'{option}="{name}": the pretrained weights are neither in the '
            'local HuggingFace cache nor downloadable here. Download them '
            'on a machine with network access (they land in the cache), '
            f'or set {option} to a local folder, or to None to start from '
            f'random weights. ({e})') from None


def checkpoint_layers(module: nn.Module) -> int:
    """Turn on gradient checkpointing in every transformers layer of
    ``module`` (``GradientCheckpointingLayer``: SigLIP's encoder layers,
    SAM 2's Hiera blocks), non-reentrant: in training, a layer keeps only
    its input and runs again in the backward pass (same results, less
    memory, about a third more compute).

    Returns:
        int: The layers switched.
    """
    from functools import partial

    from torch.utils.checkpoint import checkpoint
    from transformers.modeling_layers import GradientCheckpointingLayer
    layers = [
        m for m in module.modules()
        if isinstance(m, GradientCheckpointingLayer)
    ]
    for layer in layers:
        layer.gradient_checkpointing = True
        layer._gradient_checkpointing_func = partial(
            checkpoint, use_reentrant=False)
    return len(layers)


def say_loaded(owner: str, name: str, lora: Optional[dict]) -> None:
    """Log that ``owner`` loaded ``name`` (and that its adapters start at
    zero)."""
    note = ' (LoRA adapters start at zero)' if lora else ''
    print_log(f'{owner}: pretrained weights loaded from {name}{note}',
              logger='current')


__all__ = [
    'checkpoint_layers', 'load_pretrained', 'normalize_channels',
    'say_loaded'
]
