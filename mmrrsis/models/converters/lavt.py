"""LAVT's checkpoint layout -> mmrrsis keys, and what LAVT's saved
arguments require of the config.

LAVT's training script (yz93/LAVT-RIS) saves ``{'model': ..., 'bert_model':
..., 'optimizer': ..., 'args': Namespace, ...}``: ``model`` holds the
multi-modal Swin (``backbone.layers.{i}...`` with ``fusion`` (PWAM) and
``res_gate`` in every stage) and the decoder (``classifier.*``);
``bert_model`` holds BERT. Its single-model variant keeps BERT inside
``model`` as ``text_encoder.*``. :func:`convert_lavt` maps all of it onto
:class:`RRSISEncoderDecoder` with a :class:`LanguageAwareSwin` backbone
and a :class:`ReferringDecodeHead` (``configs/lavt_swin-b.py``).

The saved ``args`` decide what the weights compute, and some of them do
not show in any tensor's shape (:func:`lavt_requirements`):

- ``--mha a-b-c-d``: PWAM heads per stage (``''``: one head) ->
  ``model.backbone.fusion_cfg.num_heads``; the weights have the same
  shapes for any number of heads;
- ``--swin_type``: ``model.backbone.embed_dims``, ``depths``,
  ``num_heads``;
- the window size, read from the relative position tables (``window12``
  and the pretrained file name only say it at training time) ->
  ``model.backbone.window_size``.

``fusion_drop`` (training only) and ``img_size`` are kept in the meta as
they were. A checkpoint without ``args`` is assumed to have LAVT's
defaults (one head), said in the log; ``--reference-args mha=...`` states
them.
"""
import logging
import math
import re
from typing import Callable, Dict, List, Mapping, Optional

from mmengine.logging import print_log
from torch import Tensor

from .common import (
    ConvertedState,
    requirement,
    strip_module,
)
from .common import (
    reference_args as reference_args_of,
)

#: Swin variants of LAVT's ``--swin_type``: our backbone's settings.
SWIN_TYPES = {
    'tiny': dict(embed_dims=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12,
                                                                   24]),
    'small': dict(embed_dims=96, depths=[2, 2, 18, 2],
                  num_heads=[3, 6, 12, 24]),
    'base': dict(embed_dims=128, depths=[2, 2, 18, 2],
                 num_heads=[4, 8, 16, 32]),
    'large': dict(embed_dims=192, depths=[2, 2, 18, 2],
                  num_heads=[6, 12, 24, 48]),
}
HEADS_OPTION = 'model.backbone.fusion_cfg.num_heads'

# PWAM sub-layers: LAVT name -> ours (LAVT uses Conv1d, we use Linear)
_PWAM_LAYERS = {
    'vis_project.0': 'vis_proj.0',
    'image_lang_att.f_query.0': 'query_proj',
    'image_lang_att.f_key.0': 'key_proj',
    'image_lang_att.f_value.0': 'value_proj',
    'image_lang_att.W.0': 'out_proj',
    'project_mm.0': 'fuse_proj.0',
}
# decoder: LAVT suffix of conv{k}_{s}/bn{k}_{s} -> our fusion step
_DECODER_STEPS = {'4': 0, '3': 1, '2': 2}


def patch_merging_order(weight: Tensor) -> Tensor:
    """Reorder the 4C input channels of a Swin patch merging for mmseg.

    The original Swin concatenates the 2x2 neighbours as (top-left,
    bottom-left, top-right, bottom-right), each C channels in a block;
    mmseg's ``nn.Unfold`` interleaves them channel by channel in the order
    (top-left, top-right, bottom-left, bottom-right).

    Args:
        weight (Tensor): ``reduction.weight`` (C_out, 4C) or a norm
            parameter (4C, ).

    Returns:
        Tensor: The same values in mmseg's channel order.
    """
    lead = weight.shape[:-1]
    blocks = weight.reshape(*lead, 4, weight.shape[-1] // 4)
    blocks = blocks[..., [0, 2, 1, 3], :]
    return blocks.transpose(-1, -2).reshape(weight.shape).contiguous()


def _convert_swin_key(rest: str, value: Tensor):
    """``rest`` is a LAVT backbone key without the 'backbone.' prefix."""
    if rest.startswith('patch_embed.proj.'):
        return 'patch_embed.projection.' + rest[len('patch_embed.proj.'):], \
            value
    if rest.startswith('patch_embed.') or re.match(r'norm\d+\.', rest):
        return rest, value
    if rest == 'absolute_pos_embed':
        return rest, value
    match = re.match(r'layers\.(\d+)\.(.*)$', rest)
    if match is None:
        return None
    stage, sub = match.groups()
    match = re.match(r'blocks\.(\d+)\.(.*)$', sub)
    if match is not None:
        block, name = match.groups()
        prefix = f'stages.{stage}.blocks.{block}.'
        if name.startswith('attn.'):
            return prefix + 'attn.w_msa.' + name[len('attn.'):], value
        if name.startswith('mlp.fc1.'):
            return prefix + 'ffn.layers.0.0.' + name[len('mlp.fc1.'):], value
        if name.startswith('mlp.fc2.'):
            return prefix + 'ffn.layers.1.' + name[len('mlp.fc2.'):], value
        if name.startswith(('norm1.', 'norm2.')):
            return prefix + name, value
        return None
    if sub.startswith('downsample.'):
        return f'stages.{stage}.{sub}', patch_merging_order(value)
    if sub.startswith('res_gate.'):
        return f'fusion.gates.{stage}.' + sub[len('res_gate.'):], value
    if sub.startswith('fusion.'):
        name = sub[len('fusion.'):]
        for theirs, ours in _PWAM_LAYERS.items():
            if name.startswith(theirs + '.'):
                param = name[len(theirs) + 1:]
                if param == 'weight' and value.dim() == 3:
                    value = value.squeeze(-1)
                return f'fusion.pwams.{stage}.{ours}.{param}', value
    return None


def _convert_decoder_key(rest: str, value: Tensor):
    """``rest`` is a LAVT classifier key without 'classifier.'."""
    if rest.startswith('conv1_1.'):
        return 'conv_seg.' + rest[len('conv1_1.'):]
    match = re.match(r'(conv|bn)([12])_([234])\.(.*)$', rest)
    if match is None:
        return None
    kind, k, step, param = match.groups()
    layer = 'conv' if kind == 'conv' else 'bn'
    return (f'fuse_convs.{_DECODER_STEPS[step]}.{int(k) - 1}.'
            f'{layer}.{param}')


def _convert_bert_key(key: str) -> Optional[str]:
    if key.startswith('pooler.') or key.endswith(
            ('position_ids', 'token_type_ids')):
        return None  # no pooler in mmrrsis; buffers are rebuilt
    return 'text_encoder.bert.' + key


def convert_lavt_layout(checkpoint: Mapping,
                        bert_state: Optional[Mapping] = None,
                        extra: Optional[Callable[[str], Optional[str]]] = None,
                        reference_args: Optional[Mapping] = None
                        ) -> ConvertedState:
    """LAVT's layout (also RMSIN's, FIANet's, ...), with ``extra``
    renaming a model's own keys first.

    Args:
        checkpoint (Mapping): The reference checkpoint (``model``,
            ``bert_model``, ``args``), or a state dict.
        bert_state (Mapping, optional): BERT's state dict when it is not in
            ``checkpoint``. Defaults to None.
        extra (callable, optional): ``extra(key) -> our key or None`` for
            the keys a model adds to LAVT's. Defaults to None.
        reference_args (Mapping, optional): Training arguments to assume
            (see :func:`~.common.reference_args`). Defaults to None.

    Returns:
        ConvertedState: Our keys; ``meta`` holds the reference's
        arguments and what they require of the config
        (:func:`lavt_requirements`).

    Raises:
        KeyError: For a key that has no place in mmrrsis' layout.
        ValueError: A saved argument our model cannot express.
    """
    if 'model' in checkpoint and isinstance(checkpoint['model'], Mapping):
        model_state = checkpoint['model']
        if bert_state is None:
            bert_state = checkpoint.get('bert_model')
    elif 'state_dict' in checkpoint:
        model_state = checkpoint['state_dict']
    else:
        model_state = checkpoint

    converted = ConvertedState()
    unknown = []

    def add(key: Optional[str], value: Tensor, source: str) -> None:
        if key is None:
            unknown.append(source)
        else:
            converted[key] = value

    for key, value in strip_module(model_state).items():
        new = None if extra is None else extra(key)
        if new is not None:
            converted[new] = value
        elif key.startswith('backbone.'):
            result = _convert_swin_key(key[len('backbone.'):], value)
            if result is None:
                unknown.append(key)
            else:
                add('backbone.' + result[0], result[1], key)
        elif key.startswith('classifier.'):
            new = _convert_decoder_key(key[len('classifier.'):], value)
            add(None if new is None else 'decode_head.' + new, value, key)
        elif key.startswith('text_encoder.'):
            new = _convert_bert_key(key[len('text_encoder.'):])
            if new is not None:
                converted[new] = value
        else:
            unknown.append(key)
    for key, value in strip_module(bert_state or {}).items():
        new = _convert_bert_key(key)
        if new is not None:
            converted[new] = value
    if unknown:
        raise KeyError('Keys with no place in the mmrrsis layout: ' +
                       ', '.join(unknown[:10]) +
                       (' ...' if len(unknown) > 10 else ''))
    args = reference_args_of(checkpoint, reference_args)
    converted.meta.update(
        reference_args=args,
        config_requirements=lavt_requirements(args, converted))
    return converted




def parse_mha(mha: Optional[str], stages: int = 4) -> List[int]:
    """PWAM heads per stage from LAVT's ``--mha`` (``''``: one head).

    Raises:
        ValueError: Not ``a-b-c-d`` positive ints (names the option).
    """
    if mha in (None, ''):
        return [1] * stages
    try:
        heads = [int(h) for h in str(mha).split('-')]
    except ValueError:
        heads = []
    if len(heads) != stages or min(heads) < 1:
        raise ValueError(
            f'the reference was trained with --mha {mha!r}, which is not '
            f'{stages} head counts a-b-c-d; set '
            f'{HEADS_OPTION} to its heads per stage and convert with '
            '--reference-args mha=a-b-c-d')
    return heads


def window_of(state: Mapping[str, Tensor]) -> Optional[int]:
    """The Swin window size of converted weights (from the relative
    position bias tables, (2w - 1)^2 rows), None when they have none."""
    for key, value in state.items():
        if key.endswith('relative_position_bias_table'):
            side = math.isqrt(value.shape[0])
            return (side + 1) // 2
    return None


def lavt_requirements(args: Dict, state: Mapping[str, Tensor]) -> List[dict]:
    """What LAVT's saved arguments (and weights) require of the config.

    Args:
        args (dict): The reference's arguments (empty when unknown).
        state (Mapping): The converted state dict.

    Returns:
        list[dict]: :func:`~.common.requirement` entries.

    Raises:
        ValueError: ``swin_type`` or ``mha`` our model cannot express.
    """
    reqs = []
    if 'mha' in args:
        heads = parse_mha(args['mha'])
        reason = f'trained with --mha {args["mha"]!r}'
    else:
        heads = parse_mha('')
        reason = ('assumed: the checkpoint does not record --mha, LAVT\'s '
                  'default is one head')
        print_log(
            'The checkpoint holds no training arguments: assuming one PWAM '
            'head per stage (LAVT\'s default --mha); if it was trained with '
            'more, convert again with --reference-args mha=a-b-c-d.',
            logger='current',
            level=logging.WARNING)
    reqs.append(requirement(HEADS_OPTION, heads, reason, default=1))
    swin = args.get('swin_type')
    if swin is not None:
        if swin not in SWIN_TYPES:
            raise ValueError(
                f'the reference was trained with --swin_type {swin!r}, not '
                f'one of {sorted(SWIN_TYPES)}; set model.backbone.embed_dims, '
                'depths and num_heads to its Swin and convert with '
                '--reference-args swin_type=<one of them>')
        for key, value in SWIN_TYPES[swin].items():
            reqs.append(requirement(f'model.backbone.{key}', value,
                                    f'trained with --swin_type {swin}'))
    window = window_of(state)
    if window is not None:
        reqs.append(requirement(
            'model.backbone.window_size', window,
            f'relative position tables of {(2 * window - 1)**2} entries',
            default=7))
    return reqs


def convert_lavt(checkpoint: Mapping,
                 bert_state: Optional[Mapping] = None,
                 reference_args: Optional[Mapping] = None) -> ConvertedState:
    """Convert a LAVT checkpoint into an mmrrsis state dict.

    Args:
        checkpoint (Mapping): The loaded LAVT checkpoint (a dict with
            ``model``, ``args`` and, when BERT was a separate module,
            ``bert_model``), or the ``model`` state dict itself.
        bert_state (Mapping, optional): BERT's state dict when it is not in
            ``checkpoint``. Defaults to None.
        reference_args (Mapping, optional): LAVT arguments to assume
            (``mha``, ``swin_type``, ...). Defaults to None.

    Returns:
        ConvertedState: Keys of :class:`RRSISEncoderDecoder`
        (``backbone.``, ``decode_head.``, ``text_encoder.bert.``); BERT's
        pooler and position-id buffers are dropped. ``meta``: see
        :func:`lavt_requirements`.

    Raises:
        KeyError: For a key that has no place in mmrrsis' layout.
        ValueError: A saved argument our model cannot express.
    """
    return convert_lavt_layout(checkpoint, bert_state,
                               reference_args=reference_args)


__all__ = [
    'HEADS_OPTION', 'SWIN_TYPES', 'convert_lavt', 'convert_lavt_layout',
    'lavt_requirements', 'parse_mha', 'patch_merging_order', 'window_of'
]
