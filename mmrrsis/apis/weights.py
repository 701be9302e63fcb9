"""Load a checkpoint for inference or testing: safely, strictly, checked.

:func:`load_checkpoint_checked` is what :func:`~mmrrsis.apis.init_model`,
:class:`~mmrrsis.apis.RRSISInferencer`, ``tools/test.py``, the demo and the
language ablation use. Compared with mmengine's ``load_checkpoint`` it

- never runs code from the file (:func:`mmrrsis.compat.load_checkpoint_file`:
  ``weights_only=True``, zip CRCs checked) unless ``unsafe_load=True``;
- refuses weights of another model (missing/unexpected keys, shapes) with a
  short summary instead of logging them;
- refuses weights that cannot be right: NaN/Inf, or magnitudes no trained
  network has (:func:`check_weights`; a flipped exponent bit turns a weight
  into 1e9..1e38);
- refuses converted reference weights whose saved training arguments the
  config does not match (e.g. PWAM heads: same shapes, another function;
  :func:`~mmrrsis.models.converters.check_config_requirements`).
"""
import re
from collections import OrderedDict
from typing import Dict, Optional, Sequence

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


def _state_dict_of(checkpoint: dict) -> Dict[str, torch.Tensor]:
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError('the checkpoint holds no state_dict')
    return OrderedDict(
        (re.sub(r'^module\.', '', k), v) for k, v in state_dict.items())


def _examples(keys: Sequence[str], num: int = 5) -> str:
    shown = ', '.join(sorted(keys)[:num])
    more = f', ... ({len(keys) - num} more)' if len(keys) > num else ''
    return shown + more


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
        CheckpointMismatchError: Keys or shapes do not match, or the
            config does not match the converted reference's arguments.
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
    state_dict = _state_dict_of(checkpoint)
    if check_values:
        check_weights(state_dict, str(filename), max_abs)
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [
        f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}'
        for k, v in own.items()
        if k in state_dict and hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if shapes or (strict and (missing or unexpected)):
        lines = [
            f'The checkpoint {filename} does not match the model '
            f'{type(model).__name__} built from the config '
            f'({len(state_dict)} tensors in the checkpoint, {len(own)} in '
            'the model). Was it trained with another config?'
        ]
        if missing:
            lines.append(f'- {len(missing)} model weights missing from the '
                         f'checkpoint: {_examples(missing)}')
        if unexpected:
            lines.append(f'- {len(unexpected)} checkpoint weights unknown to '
                         f'the model: {_examples(unexpected)}')
        if shapes:
            lines.append(f'- {len(shapes)} shape mismatches (checkpoint vs '
                         f'model): {_examples(shapes, 3)}')
        raise CheckpointMismatchError('\n'.join(lines))
    model.load_state_dict(state_dict, strict=strict)
    return checkpoint
