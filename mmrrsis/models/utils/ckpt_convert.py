"""Rename the keys of LAVT reference checkpoints into mmrrsis' layout.

LAVT's training script (yz93/LAVT-RIS) saves ``{'model': ..., 'bert_model':
..., 'optimizer': ..., ...}``: ``model`` holds the multi-modal Swin
(``backbone.layers.{i}...`` with ``fusion`` (PWAM) and ``res_gate`` in
every stage) and the decoder (``classifier.*``); ``bert_model`` holds BERT.
Its single-model variant keeps BERT inside ``model`` as ``text_encoder.*``.
:func:`convert_lavt` maps all of it onto :class:`RRSISEncoderDecoder`
with a :class:`LanguageAwareSwin` backbone and a
:class:`ReferringDecodeHead` (``configs/lavt_swin-b.py``).
"""
import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional

from torch import Tensor

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


def convert_lavt(checkpoint: Mapping,
                 bert_state: Optional[Mapping] = None) -> 'OrderedDict':
    """Convert a LAVT checkpoint into an mmrrsis state dict.

    Args:
        checkpoint (Mapping): The loaded LAVT checkpoint (a dict with
            ``model`` and, when BERT was a separate module,
            ``bert_model``), or the ``model`` state dict itself.
        bert_state (Mapping, optional): BERT's state dict when it is not in
            ``checkpoint``. Defaults to None.

    Returns:
        OrderedDict: Keys of :class:`RRSISEncoderDecoder` (``backbone.``,
        ``decode_head.``, ``text_encoder.bert.``). BERT's pooler and
        position-id buffers are dropped.

    Raises:
        KeyError: For a key that has no place in mmrrsis' layout.
    """
    if 'model' in checkpoint and isinstance(checkpoint['model'], Mapping):
        model_state = checkpoint['model']
        if bert_state is None:
            bert_state = checkpoint.get('bert_model')
    elif 'state_dict' in checkpoint:
        model_state = checkpoint['state_dict']
    else:
        model_state = checkpoint

    converted = OrderedDict()
    unknown = []

    def add(key: Optional[str], value: Tensor, source: str) -> None:
        if key is None:
            unknown.append(source)
        else:
            converted[key] = value

    for key, value in _strip_module(model_state).items():
        if key.startswith('backbone.'):
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
    for key, value in _strip_module(bert_state or {}).items():
        new = _convert_bert_key(key)
        if new is not None:
            converted[new] = value
    if unknown:
        raise KeyError('Keys with no place in the mmrrsis layout: ' +
                       ', '.join(unknown[:10]) +
                       (' ...' if len(unknown) > 10 else ''))
    return converted


def _strip_module(state: Mapping) -> Dict:
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state.items()
    }
