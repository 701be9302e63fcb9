"""Load a checkpoint for inference or testing: safely, strictly, checked.

:func:`load_checkpoint_checked` is what :func:`~mmrrsis.apis.init_model`,
:class:`~mmrrsis.apis.RRSISInferencer`, ``tools/test.py``, the demo and the
language ablation use. Compared with mmengine's ``load_checkpoint`` it

- never runs code from the file (:func:`mmrrsis.compat.load_checkpoint_file`:
  ``weights_only=True``, zip CRCs checked) unless ``unsafe_load=True``;
- refuses weights of another model (missing/unexpected keys, shapes) with a
  short summary instead of logging them;
- refuses an integer tensor where the model has a floating-point weight
  (:func:`compare_state_dict`): ``load_state_dict`` would copy it in
  silently;
- refuses weights that cannot be right: NaN/Inf, or magnitudes no trained
  network has (:func:`check_weights`; a flipped exponent bit turns a weight
  into 1e9..1e38);
- refuses converted reference weights whose saved training arguments the
  config does not match (e.g. PWAM heads: same shapes, another function;
  :func:`~mmrrsis.models.converters.check_config_requirements`).

The same helpers check ``load_from`` and ``--resume`` in training
(:meth:`mmrrsis.engine.RRSISRunner.load_checkpoint`).
"""
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence

import torch
import torch.nn as nn

from mmrrsis.compat import CorruptCheckpointError, load_checkpoint_file
from mmrrsis.models.converters import (
    ConfigRequirementError,
    check_config_requirements,
)

#: Largest plausible absolute value of a weight or buffer of a trained
#: network (normalisation statistics included).
MAX_ABS_WEIGHT = 1e6


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model built from the config."""


def state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights of a loaded checkpoint (``state_dict``, else the dict
    itself), with DDP's ``module.`` prefix removed.

    Raises:
        CheckpointMismatchError: No dict of weights in it.
    """
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError('the checkpoint holds no state_dict')
    return OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())


def _examples(keys: Sequence[str], num: int = 5) -> str:
    shown = ', '.join(sorted(keys)[:num])
    more = f', ... ({len(keys) - num} more)' if len(keys) > num else ''
    return shown + more


@dataclass
class StateDictMismatch:
    """How a checkpoint's weights differ from a model's.

    Attributes:
        missing (list[str]): Model keys the checkpoint lacks.
        unexpected (list[str]): Checkpoint keys the model lacks.
        shapes (list[str]): Keys whose shapes differ.
        dtypes (list[str]): Keys where the checkpoint holds an integer (or
            boolean, or non-tensor) value and the model a floating-point
            tensor.
        lines (list[str]): The same, described (checkpoint vs model).
    """
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shapes: List[str] = field(default_factory=list)
    dtypes: List[str] = field(default_factory=list)
    lines: Dict[str, str] = field(default_factory=dict)

    def summary(self, filename: str, model: nn.Module, num_ckpt: int,
                num_model: int, keys: bool = True) -> str:
        """The mismatches as a message (a few keys of each kind).

        Args:
            filename (str): The checkpoint.
            model (nn.Module): The model (its class is named).
            num_ckpt (int): Tensors in the checkpoint.
            num_model (int): Tensors in the model.
            keys (bool): Include missing / unexpected keys. Defaults to
                True.
        """
        other = self.shapes or (keys and (self.missing or self.unexpected))
        lines = [
            f'The checkpoint {filename} does not match the model '
            f'{type(model).__name__} built from the config ({num_ckpt} '
            f'tensors in the checkpoint, {num_model} in the model).' +
            (' Was it trained with another config?' if other else '')
        ]
        if keys and self.missing:
            lines.append(f'- {len(self.missing)} model weights missing from '
                         f'the checkpoint: {_examples(self.missing)}')
        if keys and self.unexpected:
            lines.append(f'- {len(self.unexpected)} checkpoint weights '
                         f'unknown to the model: {_examples(self.unexpected)}')
        if self.shapes:
            lines.append(f'- {len(self.shapes)} shape mismatches (checkpoint '
                         'vs model): ' + _examples(
                             [self.lines[k] for k in self.shapes], 3))
        if self.dtypes:
            lines.append(f'- {len(self.dtypes)} integer values where the '
                         'model has floating-point weights (a damaged or '
                         'hand-made checkpoint?): ' + _examples(
                             [self.lines[k] for k in self.dtypes], 3))
        return '\n'.join(lines)


def compare_state_dict(own: Mapping[str, torch.Tensor],
                       state_dict: Mapping[str, object]) -> StateDictMismatch:
    """Compare a checkpoint's weights with a model's, key by key.

    Args:
        own (Mapping[str, Tensor]): The model's ``state_dict()``.
        state_dict (Mapping[str, object]): The checkpoint's weights.

    Returns:
        StateDictMismatch: Missing and unexpected keys, shape and dtype
        mismatches (empty lists when the checkpoint fits).
    """
    found = StateDictMismatch(
        missing=[k for k in own if k not in state_dict],
        unexpected=[k for k in state_dict if k not in own])
    for key, mine in own.items():
        if key not in state_dict:
            continue
        theirs = state_dict[key]
        if not torch.is_tensor(theirs):
            found.dtypes.append(key)
            found.lines[key] = (f'{key} ({type(theirs).__name__}, not a '
                                'tensor)')
        elif tuple(theirs.shape) != tuple(mine.shape):
            found.shapes.append(key)
            found.lines[key] = (f'{key} {tuple(theirs.shape)} vs '
                                f'{tuple(mine.shape)}')
        elif mine.is_floating_point() and not (theirs.is_floating_point()
                                               or theirs.is_complex()):
            found.dtypes.append(key)
            found.lines[key] = (f'{key} ({str(theirs.dtype)[6:]} vs '
                                f'{str(mine.dtype)[6:]})')
    return found


def check_weights(state_dict: Dict[str, torch.Tensor],
                  filename: str,
                  max_abs: Optional[float] = MAX_ABS_WEIGHT) -> None:
    """Raise if floating-point weights are NaN/Inf or absurdly large.

    Args:
        state_dict (dict[str, Tensor]): The weights.
        filename (str): Named in the message.
        max_abs (float, optional): Largest allowed absolute value; None
            checks finiteness only. Defaults to :data:`MAX_ABS_WEIGHT`.

    Raises:
        CorruptCheckpointError: Names the tensors (a few) and what was
            found.
    """
    non_finite, too_large = [], []
    for key, value in state_dict.items():
        if not torch.is_tensor(value) or not value.is_floating_point() or \
                value.numel() == 0:
            continue
        finite = torch.isfinite(value)
        if not bool(finite.all()):
            non_finite.append(f'{key} ({int((~finite).sum())} of '
                              f'{value.numel()} values)')
            continue
        largest = float(value.detach().abs().max())
        if max_abs is not None and largest > max_abs:
            too_large.append(f'{key} (|w| up to {largest:.3g})')
    if not (non_finite or too_large):
        return
    lines = [f'The checkpoint {filename} holds weights that cannot be right; '
             'it is damaged (a changed byte, an interrupted copy) or comes '
             'from a run that diverged.']
    if non_finite:
        lines.append(f'- {len(non_finite)} tensors with NaN or Inf: '
                     f'{_examples(non_finite, 3)}')
    if too_large:
        lines.append(f'- {len(too_large)} tensors with values above '
                     f'{max_abs:g}: {_examples(too_large, 3)}')
    lines.append('Use another checkpoint (e.g. an earlier epoch), or copy or '
                 'download it again.')
    raise CorruptCheckpointError('\n'.join(lines))


def load_checkpoint_checked(model: nn.Module,
                            filename: str,
                            map_location: str = 'cpu',
                            strict: bool = True,
                            unsafe_load: bool = False,
                            max_abs: Optional[float] = MAX_ABS_WEIGHT,
                            check_values: bool = True,
                            cfg=None) -> dict:
    """Load a checkpoint, refusing unsafe, damaged or foreign ones.

    Args:
        model (nn.Module): The model to load into.
        filename (str): Local path or URL of the checkpoint.
        map_location (str): Defaults to 'cpu'.
        strict (bool): Raise on missing or unexpected keys (shape
            mismatches always raise). Defaults to True.
        unsafe_load (bool): Unpickle the file completely, which runs any
            code it names; only for files you trust. Defaults to False.
        max_abs (float, optional): See :func:`check_weights`. Defaults to
            :data:`MAX_ABS_WEIGHT`.
        check_values (bool): Check the weights' values
            (:func:`check_weights`). Defaults to True.
        cfg (Config, optional): The config the model was built from, to
            check converted weights' requirements against. Defaults to
            None (``model.cfg`` when set).

    Returns:
        dict: The loaded checkpoint (``meta`` etc.).

    Raises:
        FileNotFoundError: A local checkpoint that does not exist.
        UnsafeCheckpointError: The file names code to run (and
            ``unsafe_load`` is False).
        CorruptCheckpointError: Empty, truncated or damaged file, or
            NaN/Inf/absurd weights.
        CheckpointMismatchError: Keys, shapes or dtypes do not match, or
            the config does not match the converted reference's arguments.
    """
    checkpoint = load_checkpoint_file(
        str(filename), map_location=map_location, unsafe_load=unsafe_load)
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'{filename} is not a model checkpoint (it holds a '
            f'{type(checkpoint).__name__})')
    cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
    if cfg is not None:
        try:
            check_config_requirements(checkpoint.get('meta'), cfg,
                                      str(filename))
        except ConfigRequirementError as e:
            raise CheckpointMismatchError(str(e)) from None
    state_dict = state_dict_of(checkpoint)
    if check_values:
        check_weights(state_dict, str(filename), max_abs)
    own = model.state_dict()
    found = compare_state_dict(own, state_dict)
    if found.shapes or found.dtypes or (strict and (found.missing
                                                    or found.unexpected)):
        raise CheckpointMismatchError(
            found.summary(filename, model, len(state_dict), len(own)))
    model.load_state_dict(state_dict, strict=strict)
    return checkpoint
