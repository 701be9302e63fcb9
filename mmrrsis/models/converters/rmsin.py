"""RMSIN's checkpoint layout -> mmrrsis keys.

RMSIN (Lsan2401/RMSIN) saves the same dictionary as LAVT (``model``,
``bert_model`` for its ``lavt`` variant, ``args`` with LAVT's options,
``--mha`` and ``--swin_type`` included); its default model (``lavt_one``)
keeps BERT in ``model`` as ``text_encoder.*``. Its backbone adds
``visual_residual`` and ``visual_gate`` to every stage and ``cim`` after
the stages, and its decoder's second convolutions are rotated
(``classifier.conv2_k.rounting_func.*``). :func:`convert_rmsin` maps it
onto ``configs/rmsin/rmsin_swin-b_*``: :class:`RMSINFusion`,
:class:`CrossScaleInteraction` (the neck) and :class:`RotatedDecodeHead`;
the saved arguments give the same config requirements as LAVT's
(:func:`~.lavt.lavt_requirements`).
"""
import re
from typing import Mapping, Optional

from .common import ConvertedState
from .lavt import _DECODER_STEPS, convert_lavt_layout

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
                  bert_state: Optional[Mapping] = None,
                  reference_args: Optional[Mapping] = None
                  ) -> ConvertedState:
    """Convert an RMSIN checkpoint into an mmrrsis state dict.

    Args:
        checkpoint (Mapping): The loaded RMSIN checkpoint (a dict with
            ``model``, ``args`` and, for its ``lavt`` variant,
            ``bert_model``), or the ``model`` state dict itself.
        bert_state (Mapping, optional): BERT's state dict when it is not in
            ``checkpoint``. Defaults to None.
        reference_args (Mapping, optional): RMSIN arguments to assume
            (``mha``, ``swin_type``, ...). Defaults to None.

    Returns:
        ConvertedState: Keys of :class:`RRSISEncoderDecoder` with the RMSIN
        config (``backbone.``, ``neck.``, ``decode_head.``,
        ``text_encoder.bert.``); BERT's pooler and position-id buffers are
        dropped. ``meta``: see :func:`~.lavt.lavt_requirements`.

    Raises:
        KeyError: For a key that has no place in mmrrsis' layout.
        ValueError: A saved argument our model cannot express.
    """
    return convert_lavt_layout(checkpoint, bert_state,
                               extra=_convert_rmsin_key,
                               reference_args=reference_args)


__all__ = ['convert_rmsin']
