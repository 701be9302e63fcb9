"""Rename the keys of LAVT and RMSIN reference checkpoints into mmrrsis'
layout.

LAVT's training script (yz93/LAVT-RIS) saves ``{'model': ..., 'bert_model':
..., 'optimizer': ..., ...}``: ``model`` holds the multi-modal Swin
(``backbone.layers.{i}...`` with ``fusion`` (PWAM) and ``res_gate`` in
every stage) and the decoder (``classifier.*``); ``bert_model`` holds BERT.
Its single-model variant keeps BERT inside ``model`` as ``text_encoder.*``.
:func:`convert_lavt` maps all of it onto :class:`RRSISEncoderDecoder`
with a :class:`LanguageAwareSwin` backbone and a
:class:`ReferringDecodeHead` (``configs/lavt_swin-b.py``).

RMSIN's (Lsan2401/RMSIN) saves the same dictionary; its default model
(``lavt_one``) keeps BERT in ``model`` as ``text_encoder.*``. Its backbone
adds ``visual_residual`` and ``visual_gate`` to every stage and ``cim``
after the stages, and its decoder's second convolutions are rotated
(``classifier.conv2_k.rounting_func.*``). :func:`convert_rmsin` maps it onto
``configs/rmsin/rmsin_swin-b_*``: :class:`RMSINFusion`,
:class:`CrossScaleInteraction` (the neck) and :class:`RotatedDecodeHead`.
"""
import logging
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, Mapping, Optional

import torch
from mmengine.logging import print_log
from torch import Tensor

from mmrrsis.compat import REFERENCE_GLOBALS, load_checkpoint_file

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
    return _convert(checkpoint, bert_state)


# RMSIN's re-parameterisable block -> RepConvBlock
_REP_BRANCHES = {'3x3': 'serial', '1x1': 'pointwise', 'identity': 'identity'}
# RMSIN's CIM -> CrossScaleInteraction
_CIM_TOP = {'down_channel': 'reduce', 'up_channel': 'expand', 'bn': 'out_bn'}
_CIM_ATTN = {
    'bn1': 'in_bn', 'DWConv1': 'down2', 'DWConv2': 'down3',
    'attention.qkv.c': 'qkv', 'attention.qkv.bn': 'qkv_bn',
    'attention.parallel_conv.1': 'value_conv',
    'attention.to_out': 'out_proj', 'attention.proj': 'token_proj',
    'bn4': 'out_bn', 'conv': 'out_conv'
}
_CIM_FFN = {
    'bn1': 'bn1', 'conv1': 'fc1', 'bn2': 'bn2', 'conv2': 'dwconv',
    'conv3': 'fc2'
}
_CIM_GATE = {
    'local_embedding': 'local_conv', 'bn1': 'local_bn',
    'global_embedding': 'global_conv', 'bn2': 'global_bn',
    'global_act': 'act_conv', 'bn3': 'act_bn'
}


def _rename(name: str, table: Mapping[str, str]) -> Optional[str]:
    """``name`` with its leading module (a key of ``table``) renamed."""
    for theirs in sorted(table, key=len, reverse=True):
        if name.startswith(theirs + '.'):
            return table[theirs] + name[len(theirs):]
    return None


def _convert_cim_key(rest: str) -> Optional[str]:
    """``rest`` is an RMSIN key without 'backbone.cim.'; returns the key
    under 'neck.'."""
    top = _rename(rest, _CIM_TOP)
    if top is not None:
        return top
    match = re.match(r'block\.(\d+)\.(csa[12]|intra_ff|ff)\.m\.(.*)$', rest)
    if match is not None:
        block, part, name = match.groups()
        prefix = f'blocks.{block}.'
        if part.startswith('csa'):
            new = _rename(name, _CIM_ATTN)
            return None if new is None else f'{prefix}attn{part[-1]}.{new}'
        if part == 'ff':
            new = _rename(name, _CIM_FFN)
            return None if new is None else f'{prefix}ffn.{new}'
        match = re.match(r'ff(\d)\.m\.(.*)$', name)
        new = None if match is None else _rename(match.group(2), _CIM_FFN)
        return None if new is None else \
            f'{prefix}scale_ffns.{int(match.group(1)) - 1}.{new}'
    match = re.match(r'fusion\.(\d+)\.(.*)$', rest)
    if match is not None:
        new = _rename(match.group(2), _CIM_GATE)
        return None if new is None else f'gates.{match.group(1)}.{new}'
    return None


def _convert_rmsin_key(key: str) -> Optional[str]:
    """The keys RMSIN adds to LAVT's layout; None for the others."""
    match = re.match(r'backbone\.layers\.(\d+)\.visual_gate\.(.*)$', key)
    if match is not None:
        return f'backbone.fusion.visual_gates.{match.group(1)}.' \
            + match.group(2)
    match = re.match(
        r'backbone\.layers\.(\d+)\.visual_residual\.repblock\.'
        r'brb_(3x3|1x1|identity)(_2)?\.(.*)$', key)
    if match is not None:
        stage, branch, second, name = match.groups()
        return (f'backbone.fusion.intra.{stage}.blocks.{int(bool(second))}.'
                f'{_REP_BRANCHES[branch]}.{name}')
    if key.startswith('backbone.cim.'):
        new = _convert_cim_key(key[len('backbone.cim.'):])
        return None if new is None else 'neck.' + new
    match = re.match(r'classifier\.conv2_([234])\.rounting_func\.(.*)$', key)
    if match is not None:
        step, name = match.groups()
        name = re.sub(r'^norm\.norm\.', 'ln.', name)
        return (f'decode_head.fuse_convs.{_DECODER_STEPS[step]}.1.conv.'
                f'routing.{name}')
    return None


def convert_rmsin(checkpoint: Mapping,
                  bert_state: Optional[Mapping] = None) -> 'OrderedDict':
    """Convert an RMSIN checkpoint into an mmrrsis state dict.

    Args:
        checkpoint (Mapping): The loaded RMSIN checkpoint (a dict with
            ``model`` and, for its ``lavt`` variant, ``bert_model``), or
            the ``model`` state dict itself.
        bert_state (Mapping, optional): BERT's state dict when it is not in
            ``checkpoint``. Defaults to None.

    Returns:
        OrderedDict: Keys of :class:`RRSISEncoderDecoder` with the RMSIN
        config (``backbone.``, ``neck.``, ``decode_head.``,
        ``text_encoder.bert.``). BERT's pooler and position-id buffers are
        dropped.

    Raises:
        KeyError: For a key that has no place in mmrrsis' layout.
    """
    return _convert(checkpoint, bert_state, extra=_convert_rmsin_key)


def _convert(checkpoint: Mapping,
             bert_state: Optional[Mapping] = None,
             extra: Optional[Callable[[str], Optional[str]]] = None
             ) -> 'OrderedDict':
    """LAVT's layout, with ``extra`` renaming a model's own keys first."""
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
    for key, value in _strip_module(bert_state or {}).items():
        new = _convert_bert_key(key)
        if new is not None:
            converted[new] = value
    if unknown:
        raise KeyError('Keys with no place in the mmrrsis layout: ' +
                       ', '.join(unknown[:10]) +
                       (' ...' if len(unknown) > 10 else ''))
    return converted


def save_converted(state_dict: Mapping,
                   dst: str,
                   source: str,
                   meta: Optional[Mapping] = None) -> None:
    """Write a converted state dict as an mmengine-style checkpoint.

    Saves ``dict(state_dict=..., meta=dict(converted_from=source))`` (only
    tensors and strings, so it loads with ``weights_only=True``), creating
    the folder; warns when the state dict holds no BERT weights.

    Args:
        state_dict (Mapping): From :func:`convert_lavt` or
            :func:`convert_rmsin`.
        dst (str): Output path.
        source (str): What it was converted from (kept in ``meta``).
        meta (Mapping, optional): More ``meta`` entries (plain data, e.g.
            the reference's saved arguments). Defaults to None.
    """
    if not any(k.startswith('text_encoder.') for k in state_dict):
        print_log(
            f'{source} holds no BERT weights (neither "text_encoder.*" nor '
            '"bert_model", nor a separate BERT file); the text encoder keeps '
            'the weights of its config.',
            logger='current',
            level=logging.WARNING)
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    torch.save(
        dict(
            state_dict=dict(state_dict),
            meta=dict(dict(meta or {}), converted_from=source)),
        dst)


def _strip_module(state: Mapping) -> Dict:
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state.items()
    }


def convert_reference_checkpoint(convert: Callable,
                                 src: str,
                                 dst: str,
                                 bert: Optional[str] = None,
                                 unsafe_load: bool = False) -> int:
    """Read a reference checkpoint, convert its keys, write it for mmrrsis.

    The job of the converter tools (``lavt2mmrrsis.py``,
    ``rmsin2mmrrsis.py``). Inputs are read with
    :func:`mmrrsis.compat.load_checkpoint_file`: weights, numbers and the
    ``argparse.Namespace`` that the reference ``train.py`` scripts save
    (:data:`mmrrsis.compat.REFERENCE_GLOBALS`), nothing that runs code,
    unless ``unsafe_load``.

    Args:
        convert (callable): ``convert(checkpoint, bert_state) -> state
            dict``, e.g. :func:`convert_lavt` or :func:`convert_rmsin`.
        src (str): The reference checkpoint (path or URL).
        dst (str): Output path (see :func:`save_converted`).
        bert (str, optional): A separate BERT state dict (or a checkpoint
            holding ``bert_model``). Defaults to None.
        unsafe_load (bool): Unpickle the inputs completely (trusted files
            only). Defaults to False.

    Returns:
        int: The number of tensors written.

    Raises:
        UnsafeCheckpointError: An input needs full unpickling.
        CorruptCheckpointError: An input is empty, truncated or damaged.
        KeyError: A key has no place in the mmrrsis layout.
    """

    def read(path: str):
        return load_checkpoint_file(
            path,
            map_location='cpu',
            unsafe_load=unsafe_load,
            extra_safe_globals=REFERENCE_GLOBALS)

    checkpoint = read(src)
    bert_state = None
    if bert:
        bert_state = read(bert)
        if isinstance(bert_state, dict) and 'bert_model' in bert_state:
            bert_state = bert_state['bert_model']
    state_dict = convert(checkpoint, bert_state)
    save_converted(state_dict, dst, src)
    return len(state_dict)


def converter_cli(convert: Callable, reference: str, argv=None) -> None:
    """The command line of a converter tool: ``SRC DST [--bert FILE]
    [--unsafe-load]``, then :func:`convert_reference_checkpoint`.

    A file that cannot be read safely, or a damaged one, ends the program
    with ``error: ...`` (exit status 1).

    Args:
        convert (callable): The key mapping, e.g. :func:`convert_lavt`.
        reference (str): The reference implementation's name, for the help.
        argv (list[str], optional): Arguments. Defaults to None
            (``sys.argv``).
    """
    import argparse
    import sys

    from mmrrsis.compat import CorruptCheckpointError, UnsafeCheckpointError
    from mmrrsis.utils import add_unsafe_load_arg

    parser = argparse.ArgumentParser(
        description=f'Convert a {reference} checkpoint into mmrrsis keys')
    parser.add_argument('src', help=f'{reference} checkpoint (path or URL)')
    parser.add_argument('dst', help='output checkpoint path')
    parser.add_argument(
        '--bert',
        help='separate BERT state dict, when SRC does not hold BERT')
    add_unsafe_load_arg(parser, 'the inputs')
    args = parser.parse_args(argv)
    try:
        count = convert_reference_checkpoint(convert, args.src, args.dst,
                                             args.bert, args.unsafe_load)
    except (OSError, UnsafeCheckpointError, CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'{count} tensors written to {args.dst}')
