"""LoRA adapters on the frozen towers of a foundation model (peft).

A tower (SAM2's image encoder, a SigLIP tower) takes a ``lora`` config::

    lora=dict(r=16, lora_alpha=16, lora_dropout=0.,
              target_modules=r'^(encoder\\.layers\\.\\d+\\.self_attn\\.q_proj)$')

and calls :func:`add_lora` on its wrapped HuggingFace module. peft replaces
every matched ``nn.Linear`` / ``nn.Conv2d`` with a LoRA layer that keeps the
original as ``base_layer`` and adds ``lora_A.default`` / ``lora_B.default``
(so the state dict names are those of peft, and of the checkpoints written
with it), and freezes every other parameter of that module: only the
adapters train. ``W x + (alpha / r) B A x`` is the layer's output.

:func:`merge_lora` folds the adapters into the weights
(``W <- W + (alpha / r) B A``) and puts the plain layers back: the same
function with one matrix product per layer instead of three, for inference;
the state dict then has the plain names (no ``base_layer``, no ``lora_*``).
"""
from typing import Dict, Mapping, Optional, Tuple

import torch
from torch import nn

#: Keys of a ``lora`` config that peft's LoraConfig takes here.
LORA_KEYS = ('r', 'lora_alpha', 'lora_dropout', 'target_modules', 'bias')


def add_lora(module: nn.Module, lora: Optional[Mapping],
             owner: str = 'module') -> nn.Module:
    """Put LoRA adapters on ``module`` in place.

    Args:
        module (nn.Module): The module to adapt (its parameters are frozen,
            the adapters are trainable).
        lora (Mapping, optional): ``r``, ``lora_alpha``, ``lora_dropout``,
            ``target_modules`` (a regex matched against the full names of
            the sub-modules of ``module``, or a list of name suffixes), and
            optionally ``bias``. None: nothing is done.
        owner (str): Name used in errors (e.g. the config key). Defaults
            to ``'module'``.

    Returns:
        nn.Module: ``module`` itself.

    Raises:
        ValueError: Unknown keys, or a ``target_modules`` that matches no
            layer of ``module``.
    """
    if lora is None:
        return module
    from peft import LoraConfig, inject_adapter_in_model
    unknown = set(lora) - set(LORA_KEYS)
    if unknown:
        raise ValueError(f'{owner}.lora: unknown keys {sorted(unknown)}; '
                         f'allowed: {list(LORA_KEYS)}')
    if 'target_modules' not in lora:
        raise ValueError(f'{owner}.lora needs target_modules (a regex of the '
                         'layer names to adapt)')
    kwargs = dict(lora)
    if isinstance(kwargs['target_modules'], tuple):
        kwargs['target_modules'] = list(kwargs['target_modules'])
    try:
        inject_adapter_in_model(LoraConfig(**kwargs), module)
    except ValueError as e:
        if 'not found' in str(e) or 'Target modules' in str(e):
            raise ValueError(
                f'{owner}.lora.target_modules={lora["target_modules"]!r} '
                f'matches no layer of {type(module).__name__}: {e}') from None
        raise
    return module


def adapt_or_freeze(module: nn.Module, lora: Optional[Mapping], freeze: bool,
                    owner: str) -> None:
    """A tower's training setup: LoRA adapters when ``lora`` is given
    (everything else of ``module`` frozen), else frozen entirely when
    ``freeze``, else left trainable.

    Args:
        module (nn.Module): The tower.
        lora (Mapping, optional): See :func:`add_lora`.
        freeze (bool): Freeze it when there is no LoRA.
        owner (str): Config key, for errors.
    """
    if lora is not None:
        add_lora(module, lora, owner)
    elif freeze:
        module.requires_grad_(False)


def lora_layers(module: nn.Module) -> Dict[str, nn.Module]:
    """The peft LoRA layers inside ``module``, by name."""
    from peft.tuners.lora import LoraLayer
    return {
        name: m
        for name, m in module.named_modules() if isinstance(m, LoraLayer)
    }


def merge_lora(module: nn.Module) -> int:
    """Fold every LoRA adapter of ``module`` into its base layer and put
    the plain layer back in its place.

    Args:
        module (nn.Module): A module adapted by :func:`add_lora` (or one
            without adapters: nothing happens).

    Returns:
        int: The number of layers merged.
    """
    layers = lora_layers(module)
    for name, layer in layers.items():
        layer.merge(safe_merge=True)
        parent_name, _, child = name.rpartition('.')
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, child, layer.get_base_layer())
    return len(layers)


def load_base_weights(module: nn.Module, state_dict: Mapping[str,
                                                             torch.Tensor],
                      owner: str = 'module') -> None:
    """Load plain (pre-LoRA) weights into a module that may carry LoRA.

    ``x.weight`` of ``state_dict`` goes to ``x.base_layer.weight`` where
    ``x`` was adapted; the adapters keep their initialisation (``lora_B``
    is zero, so the adapted module computes what the plain one does).

    Args:
        module (nn.Module): The module.
        state_dict (Mapping): Its weights without adapters, e.g. a
            pretrained HuggingFace model's.
        owner (str): Name used in errors. Defaults to ``'module'``.

    Raises:
        KeyError: Weights missing from ``state_dict`` or left over, named.
    """
    own = module.state_dict()
    mapped = {}
    for key in own:
        if '.lora_' in key:
            continue
        plain = key.replace('.base_layer.', '.')
        if plain in state_dict:
            mapped[key] = state_dict[plain]
    missing = [k for k in own if '.lora_' not in k and k not in mapped]
    used = {k.replace('.base_layer.', '.') for k in mapped}
    extra = [k for k in state_dict if k not in used]
    if missing or extra:
        raise KeyError(
            f'{owner}: the pretrained weights do not fit: missing '
            f'{missing[:10]}{" ..." if len(missing) > 10 else ""}, '
            f'unexpected {extra[:10]}{" ..." if len(extra) > 10 else ""}')
    module.load_state_dict(mapped, strict=False)


def count_parameters(module: nn.Module) -> Tuple[int, int]:
    """(all, trainable) parameter counts of ``module``."""
    total = trainable = 0
    for p in module.parameters():
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return total, trainable


__all__ = [
    'adapt_or_freeze', 'add_lora', 'count_parameters', 'load_base_weights',
    'lora_layers', 'merge_lora'
]
