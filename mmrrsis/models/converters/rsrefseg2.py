"""RSRefSeg2's released checkpoint (KyanChen/RSRefSeg2) in mmrrsis' keys.

The release is an mmengine checkpoint ``{'state_dict': ...}`` (a DeepSpeed
``mp_rank_00_model_states.pt`` holds the same keys under ``'module'``)
whose keys are those of RSRefSeg2's ``RefSegEncoderDecoder``, with LoRA
**not merged** (peft's ``get_peft_model`` wrappers):

============================================  =================================
theirs                                        ours (:class:`RSRefSeg2`)
============================================  =================================
``backbone.model.image_encoder.base_model.``  ``backbone.sam.`` (facebook SAM 2
``model.{trunk,neck}.*``                      names -> transformers' Sam2Model)
``backbone.model.no_mem_embed``               ``backbone.no_mem_embed``
``backbone.model.sam_prompt_encoder.*``       ``decode_head.prompt_encoder.*``
``backbone.model.sam_mask_decoder.*``         ``decode_head.mask_decoder.*``
``clip_vision_encoder.base_model.model.``     ``vision_encoder.siglip.*``
``model.*``
``clip_text_encoder.base_model.model.``       ``text_encoder.siglip.*``,
``{model.*, logit_scale, logit_bias}``        ``text_encoder.logit_*``
``prompter.*`` (operation names)              ``prompter.*`` (our layers)
``decode_head.logit_{scale,bias}{1,2}``       ``decode_head.pixel_logit_*``,
                                              ``decode_head.contrastive_loss.*``
============================================  =================================

peft's adapter names (``base_layer``, ``lora_A.default``,
``lora_B.default``) are kept, or with ``merge_lora=True`` folded into the
weights (``W + scaling * B A``, scaling = lora_alpha / r, 1 in the
recipe) and dropped; the merged file loads into the config with
``model.lora_merged=True``. A key that has no place in our layout stops the
conversion, naming it.
"""
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

#: prefixes of the released checkpoint
SAM_ENCODER = 'backbone.model.image_encoder.base_model.model.'
SAM_PROMPT = 'backbone.model.sam_prompt_encoder.'
SAM_DECODER = 'backbone.model.sam_mask_decoder.'
VISION = 'clip_vision_encoder.base_model.model.model.'
TEXT = 'clip_text_encoder.base_model.model.'

# facebook SAM 2 -> transformers' Sam2Model, inside each part (our table,
# checked by loading facebook's modules' weights into transformers' ones)
_SAM2_ENCODER_RULES = [
    (r'^trunk\.', 'backbone.'),
    (r'\.norm(\d)\.', r'.layer_norm\1.'),
    (r'\.mlp\.layers\.0\.', '.mlp.proj_in.'),
    (r'\.mlp\.layers\.1\.', '.mlp.proj_out.'),
    (r'^backbone\.patch_embed\.proj\.', 'backbone.patch_embed.projection.'),
    (r'^neck\.convs\.(\d+)\.conv\.', r'neck.convs.\1.'),
]
_SAM2_PROMPT_RULES = [
    (r'^pe_layer\.positional_encoding_gaussian_matrix$',
     'shared_embedding.positional_embedding'),
    (r'^mask_downscaling\.0\.', 'mask_embed.conv1.'),
    (r'^mask_downscaling\.1\.', 'mask_embed.layer_norm1.'),
    (r'^mask_downscaling\.3\.', 'mask_embed.conv2.'),
    (r'^mask_downscaling\.4\.', 'mask_embed.layer_norm2.'),
    (r'^mask_downscaling\.6\.', 'mask_embed.conv3.'),
]
_SAM2_DECODER_RULES = [
    (r'\.out_proj\.', '.o_proj.'),
    (r'^transformer\.layers\.(\d+)\.norm(\d)\.',
     r'transformer.layers.\1.layer_norm\2.'),
    (r'^transformer\.layers\.(\d+)\.mlp\.layers\.0\.',
     r'transformer.layers.\1.mlp.proj_in.'),
    (r'^transformer\.layers\.(\d+)\.mlp\.layers\.1\.',
     r'transformer.layers.\1.mlp.proj_out.'),
    (r'^transformer\.norm_final_attn\.', 'transformer.layer_norm_final_attn.'),
    (r'^output_upscaling\.0\.', 'upscale_conv1.'),
    (r'^output_upscaling\.1\.', 'upscale_layer_norm.'),
    (r'^output_upscaling\.3\.', 'upscale_conv2.'),
    (r'^((?:output_hypernetworks_mlps\.\d+|iou_prediction_head|'
     r'pred_obj_score_head))\.layers\.0\.', r'\1.proj_in.'),
    (r'^((?:output_hypernetworks_mlps\.\d+|iou_prediction_head|'
     r'pred_obj_score_head))\.layers\.1\.', r'\1.layers.0.'),
    (r'^((?:output_hypernetworks_mlps\.\d+|iou_prediction_head|'
     r'pred_obj_score_head))\.layers\.2\.', r'\1.proj_out.'),
]
_SAM2_DECODER_KEYS = re.compile(
    r'^(transformer\.|iou_token\.|mask_tokens\.|obj_score_token\.|'
    r'output_upscaling\.[013]\.|conv_s[01]\.|output_hypernetworks_mlps\.|'
    r'iou_prediction_head\.|pred_obj_score_head\.)')
_SAM2_ENCODER_KEYS = re.compile(r'^(trunk\.|neck\.convs\.\d+\.conv\.)')
_SAM2_PROMPT_KEYS = re.compile(
    r'^(pe_layer\.positional_encoding_gaussian_matrix$|mask_downscaling\.'
    r'[01346]\.|no_mask_embed\.|not_a_point_embed\.)')

# RSRefSeg2's prompter: operation names -> our layers
_PROMPTER_RULES = [
    (r'^text_query_pe_embedding([12])$', r'query_pe\1'),
    (r'^img_pe$', 'image_pe'),
    (r'^prompt_pe_embedding$', 'prompt_pe'),
    (r'^prompt_embedding$', 'prompts'),
    (r'^sparse_prompt_mlp\.layers\.0\.', 'sparse_fc1.'),
    (r'^sparse_prompt_mlp\.layers\.1\.', 'sparse_fc2.'),
    (r'^dense_prompt_conv\.', 'dense_conv.'),
]
_DUAL_QUERY = {
    'self_attn_query_query1': 'self_attn1.attn',
    'norm_query1_1': 'self_attn1.norm',
    'self_attn_query_query2': 'self_attn2.attn',
    'norm_query2_1': 'self_attn2.norm',
    'cross_attn_query_text_query1_text': 'text_attn1.attn',
    'norm_query1_2': 'text_attn1.norm',
    'mlp_query1_2': 'text_ffn1',
    'norm_query1_3': 'text_ffn1.norm',
    'cross_attn_query_text_query2_text': 'text_attn2.attn',
    'norm_query2_2': 'text_attn2.norm',
    'mlp_query2_2': 'text_ffn2',
    'norm_query2_3': 'text_ffn2.norm',
    'cross_attn_query_query_query1_query2': 'cross_attn1.attn',
    'norm_query1_4': 'cross_attn1.norm',
    'mlp_query1_3': 'cross_ffn1',
    'norm_query1_5': 'cross_ffn1.norm',
    'cross_attn_query_query_query2_query1': 'cross_attn2.attn',
    'norm_query2_4': 'cross_attn2.norm',
    'mlp_query2_3': 'cross_ffn2',
    'norm_query2_5': 'cross_ffn2.norm',
}
_QUERY_IMAGE = {
    'self_attn_text_text_1': 'query_attn.attn',
    'self_attn_text_1': 'query_attn.attn',
    'norm_text_1': 'query_attn.norm',
    'cross_attn_img_text_1': 'image_attn.attn',
    'norm_img_1': 'image_attn.norm',
    'mlp_img_1': 'image_ffn',
    'norm_img_2': 'image_ffn.norm',
}
_PROMPT = {
    'self_attn_prompt_1': 'self_attn.attn',
    'norm_prompt_1': 'self_attn.norm',
    'cross_attn_prompt_text_1': 'query_attn.attn',
    'norm_prompt_2': 'query_attn.norm',
    'mlp_prompt_2': 'query_ffn',
    'norm_prompt_3': 'query_ffn.norm',
    'cross_attn_prompt_img_1': 'image_attn.attn',
    'norm_prompt_4': 'image_attn.norm',
    'mlp_prompt_3': 'image_ffn',
    'norm_prompt_5': 'image_ffn.norm',
}
_LORA = re.compile(r'\.(lora_A|lora_B)\.default\.weight$')


def _apply(rules: Iterable[Tuple[str, str]], key: str) -> str:
    for pattern, repl in rules:
        key = re.sub(pattern, repl, key)
    return key


def _mlp_param(rest: str) -> str:
    """An MLP of theirs (``layers.0/1``) onto our ``fc1`` / ``fc2``."""
    return re.sub(r'^layers\.([01])\.',
                  lambda m: f'fc{int(m.group(1)) + 1}.', rest)


def prompter_key(key: str) -> Optional[str]:
    """Our name of a key of RSRefSeg2's prompter (without ``prompter.``).

    Args:
        key (str): E.g. ``two_queries_text_attn_layers.0.norm_query1_1.bias``.

    Returns:
        str | None: E.g. ``query_blocks.0.self_attn1.norm.bias``; None when
        it has no place in our prompter.
    """
    simple = _apply(_PROMPTER_RULES, key)
    if simple != key:
        return simple
    match = re.match(
        r'^(two_queries_text_attn_layers|queries1_to_img_attn_layers|'
        r'prompt_queries2_img_attn_layers)\.(\d+)\.([a-z0-9_]+)\.(.+)$', key)
    if match is None:
        return None
    group, index, op, rest = match.groups()
    if group == 'two_queries_text_attn_layers':
        table, blocks = _DUAL_QUERY, ['query_blocks']
    elif group == 'queries1_to_img_attn_layers':
        table, blocks = _QUERY_IMAGE, ['image_blocks1']
    else:
        table, blocks = None, None
        if op in _QUERY_IMAGE:
            table, blocks = _QUERY_IMAGE, ['image_blocks2']
        elif op in _PROMPT:
            table, blocks = _PROMPT, ['prompt_blocks']
    if table is None or op not in table:
        return None
    ours = table[op]
    if op.startswith('mlp_'):
        rest = _mlp_param(rest)
    return f'{blocks[0]}.{index}.{ours}.{rest}'


def sam2_key(key: str) -> Optional[str]:
    """transformers' ``Sam2Model`` name of a facebook SAM 2 key (the parts
    RSRefSeg2 keeps).

    Args:
        key (str): E.g. ``image_encoder.trunk.blocks.0.mlp.layers.0.weight``
            or ``sam_mask_decoder.output_upscaling.1.weight``; peft's
            ``base_layer`` / ``lora_*`` parts pass through.

    Returns:
        str | None: E.g. ``vision_encoder.backbone.blocks.0.mlp.proj_in.
        weight``; None for the video (memory) parts and unknown keys.
        ``point_embeddings.{i}`` are handled by
        :func:`sam2_to_transformers` (stacked).
    """
    if key == 'no_mem_embed':
        return 'no_memory_embedding'
    for prefix, keys, rules, ours in (
            ('image_encoder.', _SAM2_ENCODER_KEYS, _SAM2_ENCODER_RULES,
             'vision_encoder.'),
            ('sam_prompt_encoder.', _SAM2_PROMPT_KEYS, _SAM2_PROMPT_RULES,
             'prompt_encoder.'),
            ('sam_mask_decoder.', _SAM2_DECODER_KEYS, _SAM2_DECODER_RULES,
             'mask_decoder.')):
        if key.startswith(prefix):
            rest = key[len(prefix):]
            if not keys.match(rest):
                return None
            return ours + _apply(rules, rest)
    return None


def _stack_point_embeddings(state: Mapping[str, Tensor], prefix: str,
                            ours: str, out: Dict[str, Tensor],
                            used: List[str]) -> None:
    """facebook's four (1, C) point embeddings -> one (4, C) table."""
    keys = sorted((k for k in state
                   if re.match(re.escape(prefix) +
                               r'point_embeddings\.\d+\.weight$', k)),
                  key=lambda k: int(k.split('.')[-2]))
    if keys:
        out[ours] = torch.cat([state[k] for k in keys], dim=0)
        used.extend(keys)


def sam2_to_transformers(state: Mapping[str, Tensor],
                         source: str = 'the checkpoint') -> Dict[str, Tensor]:
    """A facebook SAM 2 state dict (``sam2.1_hiera_large.pt``'s ``model``)
    in transformers' ``Sam2Model`` names, the parts RSRefSeg2 uses (image
    encoder, prompt encoder, mask decoder, ``no_mem_embed``); the video
    parts (memory encoder and attention, object pointers) are left out.

    Args:
        state (Mapping): facebook's names.
        source (str): For errors. Defaults to ``'the checkpoint'``.

    Returns:
        dict: transformers' names.
    """
    out: Dict[str, Tensor] = {}
    used: List[str] = []
    for key, value in state.items():
        new = sam2_key(key)
        if new is not None:
            out[new] = value
            used.append(key)
    _stack_point_embeddings(state, 'sam_prompt_encoder.',
                            'prompt_encoder.point_embed.weight', out, used)
    if not any(k.startswith('vision_encoder.') for k in out):
        raise KeyError(f'{source} holds no SAM 2 image encoder '
                       '(image_encoder.trunk.*)')
    return out


def _unwrap(checkpoint: Mapping) -> Mapping[str, Tensor]:
    """The state dict of a checkpoint file's contents."""
    for key in ('state_dict', 'module'):
        if isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    return checkpoint


def _reference_key(key: str) -> Optional[str]:
    """Our name of one key of the released checkpoint (point embeddings
    excepted)."""
    if key == 'backbone.model.no_mem_embed':
        return 'backbone.no_mem_embed'
    if key.startswith(SAM_ENCODER):
        new = sam2_key('image_encoder.' + key[len(SAM_ENCODER):])
        return None if new is None else 'backbone.sam.' + new[len(
            'vision_encoder.'):]
    if key.startswith(SAM_PROMPT):
        new = sam2_key('sam_prompt_encoder.' + key[len(SAM_PROMPT):])
        return None if new is None else 'decode_head.' + new
    if key.startswith(SAM_DECODER):
        new = sam2_key('sam_mask_decoder.' + key[len(SAM_DECODER):])
        return None if new is None else 'decode_head.' + new
    if key.startswith(VISION):
        return 'vision_encoder.siglip.' + key[len(VISION):]
    if key.startswith(TEXT):
        rest = key[len(TEXT):]
        if rest in ('logit_scale', 'logit_bias'):
            return 'text_encoder.' + rest
        if rest.startswith('model.'):
            return 'text_encoder.siglip.' + rest[len('model.'):]
        return None
    if key.startswith('prompter.'):
        new = prompter_key(key[len('prompter.'):])
        return None if new is None else 'prompter.' + new
    head = {  # 0-d tensors there, (1,) here (see convert_rsrefseg2)
        'decode_head.logit_scale1': 'decode_head.pixel_logit_scale',
        'decode_head.logit_bias1': 'decode_head.pixel_logit_bias',
        'decode_head.logit_scale2': 'decode_head.contrastive_loss.logit_scale',
        'decode_head.logit_bias2': 'decode_head.contrastive_loss.logit_bias',
    }
    return head.get(key)


def merge_lora_weights(state: Mapping[str, Tensor],
                       scaling: float = 1.0) -> 'OrderedDict':
    """Fold peft's unmerged adapters of a state dict into the weights.

    ``x.base_layer.weight`` becomes ``x.weight = W + scaling * B A``
    (1x1 convolutions: the same on the squeezed kernels), computed and kept
    in at least float32 (bf16 weights become float32, float64 stays);
    ``x.base_layer.bias`` becomes ``x.bias``; ``x.lora_A/B.default.weight``
    disappear.

    Args:
        state (Mapping): Keys with ``base_layer`` / ``lora_*``.
        scaling (float): lora_alpha / r. Defaults to 1 (RSRefSeg2's).

    Returns:
        OrderedDict: Plain keys.
    """
    out = OrderedDict()
    for key, value in state.items():
        if _LORA.search(key):
            continue
        if '.base_layer.' not in key:
            out[key] = value
            continue
        layer, param = key.split('.base_layer.')
        new = f'{layer}.{param}'
        a = state.get(f'{layer}.lora_A.default.weight')
        b = state.get(f'{layer}.lora_B.default.weight')
        if param != 'weight' or a is None or b is None:
            out[new] = value
            continue
        dtype = torch.promote_types(value.dtype, torch.float32)
        delta = b.to(dtype).flatten(1) @ a.to(dtype).flatten(1)
        out[new] = value.to(dtype) + scaling * delta.view(value.shape)
    return out


def convert_rsrefseg2(checkpoint: Mapping,
                      merge_lora: bool = False,
                      lora_scaling: float = 1.0) -> 'OrderedDict':
    """Rename RSRefSeg2's checkpoint into :class:`RSRefSeg2`'s state dict.

    Args:
        checkpoint (Mapping): The file's contents: ``{'state_dict': ...}``
            (the release), ``{'module': ...}`` (DeepSpeed) or the state
            dict itself.
        merge_lora (bool): Fold the LoRA adapters into the weights (for
            ``model.lora_merged=True``). Defaults to False.
        lora_scaling (float): lora_alpha / r of the run (16 / 16 in the
            recipe). Defaults to 1.

    Returns:
        OrderedDict: Our keys, the reference's tensors (dtype as stored;
        merged weights at least float32).

    Raises:
        KeyError: Keys that have no place in our layout, named; or no
            RSRefSeg2 key at all.
    """
    state = _unwrap(checkpoint)
    state = {(k[len('module.'):] if k.startswith('module.') else k): v
             for k, v in state.items()}
    out = OrderedDict()
    used: List[str] = []
    for key, value in state.items():
        new = _reference_key(key)
        if new is not None:
            # the head's 0-d logit scales are (1,) here (FSDP shards no
            # 0-d parameter)
            out[new] = value.reshape(1) if key.startswith(
                'decode_head.') and value.dim() == 0 else value
            used.append(key)
    _stack_point_embeddings(state, SAM_PROMPT,
                            'decode_head.prompt_encoder.point_embed.weight',
                            out, used)
    unknown = [k for k in state if k not in set(used)]
    if unknown:
        raise KeyError(
            f'{len(unknown)} keys of the checkpoint have no place in '
            'RSRefSeg2 (mmrrsis): ' + ', '.join(unknown[:20]) +
            (' ...' if len(unknown) > 20 else '') +
            '. Is it an RSRefSeg2 checkpoint of the SAM 2 + SigLIP layout?')
    if not out:
        raise KeyError('No RSRefSeg2 key in the checkpoint.')
    if merge_lora:
        out = merge_lora_weights(out, lora_scaling)
    return out


def convert_rsrefseg2_file(src: str,
                           dst: str,
                           merge_lora: bool = False,
                           lora_scaling: float = 1.0,
                           unsafe_load: bool = False) -> int:
    """Read RSRefSeg2's checkpoint, convert it, write it for mmrrsis.

    The input is read without running code from it
    (:func:`mmrrsis.compat.load_checkpoint_file`); the released
    ``{'state_dict': ...}`` needs nothing more. A DeepSpeed folder's
    ``mp_rank_00_model_states.pt`` also pickles mmengine objects: read it
    with ``unsafe_load=True`` only if you trust it. The output is
    ``dict(state_dict=..., meta=dict(converted_from=src,
    lora_merged=merge_lora))``, written to a temporary file and moved into
    place.

    Args:
        src (str): The reference checkpoint.
        dst (str): Output path.
        merge_lora (bool): See :func:`convert_rsrefseg2`. Defaults to False.
        lora_scaling (float): lora_alpha / r. Defaults to 1.
        unsafe_load (bool): Unpickle completely. Defaults to False.

    Returns:
        int: Tensors written.
    """
    import os
    import os.path as osp

    from mmrrsis.compat import load_checkpoint_file
    from mmrrsis.utils import write_atomically
    checkpoint = load_checkpoint_file(
        src, map_location='cpu', unsafe_load=unsafe_load)
    state = convert_rsrefseg2(checkpoint, merge_lora, lora_scaling)
    out_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    write_atomically(
        out_dir, osp.basename(dst), lambda tmp: torch.save(
            dict(
                state_dict=dict(state),
                meta=dict(converted_from=str(src), lora_merged=merge_lora)),
            osp.join(out_dir, tmp)))
    return len(state)


__all__ = [
    'convert_rsrefseg2', 'convert_rsrefseg2_file', 'merge_lora_weights',
    'prompter_key', 'sam2_key', 'sam2_to_transformers'
]
