"""Swin weights between mmseg's Swin (:class:`LanguageAwareSwin`) and
mmpretrain's Swin under :class:`LanguageAwareBackbone`.

What the two implementations share, read from their code (mmseg 1.2
``mmseg/models/backbones/swin.py``, mmpretrain 1.2
``mmpretrain/models/backbones/swin_transformer.py``):

- the same module names: ``patch_embed.projection``, ``patch_embed.norm``,
  ``stages.{i}.blocks.{j}.{norm1, attn.w_msa.{qkv, proj,
  relative_position_bias_table}, norm2, ffn.layers.{0.0, 1}}``,
  ``stages.{i}.downsample.{norm, reduction}``, output norms ``norm{i}``;
- the same patch merging: mmseg's ``PatchMerging`` and mmcv's (the one
  mmpretrain's Swin builds) both gather each 2x2 neighbourhood with
  ``nn.Unfold``, giving channels in (C, kh, kw) order. That order differs
  from the original Swin's ``cat(x0, x1, x2, x3)``, so weights from the
  original (Microsoft) layout need the permutation that mmseg's
  ``swin2mmseg.py`` applies (:func:`~mmrrsis.models.utils.
  patch_merging_order`), but between mmseg's and mmpretrain's layouts no
  channel is reordered.

What differs is around the keys: a classification checkpoint of
mmpretrain prefixes them with ``backbone.`` and holds a ``head``, and
keeps only the output norm of the last stage; the original layout (and
mmseg's converted files, which keep the original name) calls that norm
``norm``. :func:`swin_backbone_state_dict` turns either kind of file into
the bare keys both backbones load; :func:`lavt_swin_to_backbone` and
:func:`backbone_to_lavt_swin` move a whole LAVT state dict between the
two backbones (the fusion's keys are the same under both).
"""
import re
from typing import Dict, Mapping

from torch import Tensor

#: the attribute of :class:`LanguageAwareBackbone` holding the encoder
ENCODER = 'encoder'
_SWIN_KEY = re.compile(r'(patch_embed|stages|norm\d*|absolute_pos_embed)\.?')


def swin_backbone_state_dict(state_dict: Mapping[str, Tensor],
                             num_stages: int = 4) -> Dict[str, Tensor]:
    """The Swin keys of an mmseg or mmpretrain Swin file, bare.

    Args:
        state_dict (Mapping[str, Tensor]): Keys of mmseg's or mmpretrain's
            Swin, optionally under ``module.`` and/or ``backbone.``
            (classification checkpoints), with or without a ``head``.
        num_stages (int): Stages of the Swin (the final ``norm`` becomes
            ``norm{num_stages - 1}``). Defaults to 4.

    Returns:
        dict: ``patch_embed.*``, ``stages.*``, ``norm{i}.*`` (and
        ``absolute_pos_embed``), loadable by both backbones; tensors are
        shared, not copied, and no channel is reordered (see the module
        docstring).

    Raises:
        KeyError: No Swin key was found (names the first keys seen).
    """
    out = {}
    for key, value in state_dict.items():
        key = re.sub(r'^module\.', '', key)
        key = re.sub(r'^backbone\.', '', key)
        if not _SWIN_KEY.match(key):
            continue
        if key.startswith('norm.'):
            key = f'norm{num_stages - 1}.' + key[len('norm.'):]
        out[key] = value
    if not any(k.startswith('stages.') for k in out):
        raise KeyError('No Swin keys (stages.*) in the state dict; its first '
                       f'keys are {list(state_dict)[:5]}.')
    return out


def lavt_swin_to_backbone(state_dict: Mapping[str,
                                              Tensor]) -> Dict[str, Tensor]:
    """A LAVT-style model on mmseg's Swin -> the same on mmpretrain's Swin.

    ``backbone.<swin key>`` (:class:`LanguageAwareSwin`) becomes
    ``backbone.encoder.<swin key>`` (:class:`LanguageAwareBackbone` with
    ``encoder=dict(type='mmpretrain.SwinTransformer', ...,
    pad_small_map=True)``); ``backbone.fusion.*`` and every other part
    (text encoder, neck, decode head) keep their keys.

    Args:
        state_dict (Mapping[str, Tensor]): The segmentor's state dict.

    Returns:
        dict: The converted state dict (same tensors).
    """
    out = {}
    for key, value in state_dict.items():
        if key.startswith('backbone.') and _SWIN_KEY.match(key[9:]):
            key = f'backbone.{ENCODER}.' + key[9:]
        out[key] = value
    return out


def backbone_to_lavt_swin(state_dict: Mapping[str,
                                              Tensor]) -> Dict[str, Tensor]:
    """The inverse of :func:`lavt_swin_to_backbone`."""
    prefix = f'backbone.{ENCODER}.'
    return {('backbone.' + key[len(prefix):]
             if key.startswith(prefix) else key): value
            for key, value in state_dict.items()}


__all__ = [
    'swin_backbone_state_dict', 'lavt_swin_to_backbone',
    'backbone_to_lavt_swin'
]
