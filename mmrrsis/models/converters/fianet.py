"""FIANet reference checkpoints (Shaosifan/FIANet) in mmrrsis' layout.

FIANet's ``train.py`` saves ``{'model', 'optimizer', 'epoch', 'args',
'lr_scheduler', 'best_oIoU'}``: ``model`` is its ``lavt_one`` model, BERT
inside as ``text_encoder.*``, LAVT's multi-modal Swin with its PWAM and
gate renamed (``context_pixel_attn``, ``context_tanh_gate``), per stage
the object-position alignment block (``object_position_align_blk``) and
the channel weighting (``fc1``, ``fc2``), the TMEM after the stages
(``backbone.tmem``) and LAVT's decoder (``classifier``); ``args`` is the
``argparse.Namespace`` of its command line.

:func:`convert_fianet` maps the weights onto
``configs/fianet/fianet_swin-b_*`` (:class:`PhraseBertTextEncoder`,
:class:`LanguageAwareSwin` with :class:`FIANetFusion`,
:class:`TextAwareMultiScaleEnhancement` as the neck,
:class:`ReferringDecodeHead`) and :func:`fianet_config_options` reads the
saved arguments: what a config must set for the weights (recorded in the
converted file's ``meta`` and checked against a config with
:func:`config_mismatches`), or a refusal naming the option when mmrrsis'
FIANet cannot be that model.
"""
import re
from argparse import Namespace
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

from torch import Tensor

from mmrrsis.compat import REFERENCE_GLOBALS, load_checkpoint_file

from .common import requirement, save_converted
from .lavt import convert_lavt

#: FIANet's names of LAVT's per-stage modules -> LAVT's.
_LAVT_NAMES = {'context_pixel_attn': 'fusion', 'context_tanh_gate': 'res_gate'}
#: the 1x1 convolutions of its attentions -> our linear layers
_ATTN = {
    'f_query.0': 'query_proj',
    'f_key.0': 'key_proj',
    'f_value.0': 'value_proj',
    'W.0': 'out_proj'
}
_ALIGN = {
    'go_cross_attn': 'object_attn',
    'go_tanh_gating': 'object_gate',
    'go_embedding': 'object_embed',
    'sp_cross_attn': 'position_attn',
    'conv1': 'spatial_conv'
}
_TMEM_TOP = {'down_channel': 'reduce', 'up_channel': 'expand', 'bn': 'out_bn'}
_TMEM_GATE = {
    'local_embedding': 'local_conv',
    'bn1': 'local_bn',
    'global_embedding': 'global_conv',
    'bn2': 'global_bn',
    'global_act': 'act_conv',
    'bn3': 'act_bn'
}
#: ``args.dataset`` -> (config, text encoder's max_tokens, phrase classes)
DATASETS = {
    'refsegrs': ('configs/fianet/fianet_swin-b_1xb8-60e_refsegrs-480x480.py',
                 20, 'refsegrs'),
    'rrsisd': ('configs/fianet/fianet_swin-b_1xb8-40e_rrsisd-480x480.py', 22,
               'rrsisd'),
}


def _attention(name: str, value: Tensor):
    """An attention's layer: FIANet's Conv1d name -> our Linear."""
    for theirs, ours in _ATTN.items():
        if name.startswith(theirs + '.'):
            if value.dim() == 3:
                value = value.squeeze(-1)
            return ours + name[len(theirs):], value
    return None


def _rename(name: str, table: Mapping[str, str]) -> Optional[str]:
    for theirs, ours in table.items():
        if name.startswith(theirs + '.'):
            return ours + name[len(theirs):]
    return None


def _convert_fianet_key(key: str, value: Tensor):
    """(our key, value) for the modules FIANet adds to LAVT, else None."""
    match = re.match(r'backbone\.layers\.(\d+)\.(fc[12]\..*)$', key)
    if match:
        return (f'backbone.fusion.channel_weights.{match[1]}.{match[2]}',
                value)
    match = re.match(
        r'backbone\.layers\.(\d+)\.object_position_align_blk\.(\w+)\.(.*)$',
        key)
    if match:
        stage, module, name = match.groups()
        ours = _ALIGN.get(module)
        if ours is None:
            return None
        if module.endswith('cross_attn'):
            result = _attention(name, value)
            if result is None:
                return None
            name, value = result
        return f'backbone.fusion.alignments.{stage}.{ours}.{name}', value
    if not key.startswith('backbone.tmem.'):
        return None
    rest = key[len('backbone.tmem.'):]
    top = _rename(rest, _TMEM_TOP)
    if top is not None:
        return 'neck.' + top, value
    match = re.match(
        r'block\.(\d+)\.(norm[12]\..*|tma\..*|ff\.net\.[03]\..*)$', rest)
    if match:
        block, name = match.groups()
        if name.startswith('tma.'):
            result = _attention(name[len('tma.'):], value)
            if result is None:
                return None
            name, value = result
            name = 'attn.' + name
        elif name.startswith('ff.net.'):
            name = 'ffn.' + name[len('ff.net.'):]
        return f'neck.blocks.{block}.{name}', value
    match = re.match(r'fusion\.(\d+)\.(.*)$', rest)
    if match:
        name = _rename(match[2], _TMEM_GATE)
        if name is not None:
            return f'neck.gates.{match[1]}.{name}', value
    return None


def _model_state(checkpoint: Mapping) -> Mapping:
    if 'model' in checkpoint and isinstance(checkpoint['model'], Mapping):
        return checkpoint['model']
    if 'state_dict' in checkpoint:
        return checkpoint['state_dict']
    return checkpoint


def convert_fianet(checkpoint: Mapping,
                   bert_state: Optional[Mapping] = None) -> 'OrderedDict':
    """Convert a FIANet checkpoint into an mmrrsis state dict.

    The saved ``args`` are checked first (:func:`fianet_config_options`:
    a model mmrrsis' FIANet cannot be is refused).

    Args:
        checkpoint (Mapping): The loaded checkpoint (with ``model`` and
            ``args``), or the ``model`` state dict itself.
        bert_state (Mapping, optional): A separate BERT state dict (FIANet
            keeps BERT in ``model``). Defaults to None.

    Returns:
        OrderedDict: Keys of :class:`RRSISEncoderDecoder` with the FIANet
        config (``backbone.``, ``neck.``, ``decode_head.``,
        ``text_encoder.bert.``).

    Raises:
        KeyError: A key with no place in mmrrsis' layout.
        ValueError: Saved arguments mmrrsis' FIANet cannot follow.
    """
    fianet_config_options(checkpoint)
    own, lavt = OrderedDict(), OrderedDict()
    for key, value in _model_state(checkpoint).items():
        key = key[len('module.'):] if key.startswith('module.') else key
        result = _convert_fianet_key(key, value)
        if result is not None:
            own[result[0]] = result[1]
            continue
        for theirs, ours in _LAVT_NAMES.items():
            key = re.sub(rf'^(backbone\.layers\.\d+)\.{theirs}\.',
                         rf'\1.{ours}.', key)
        lavt[key] = value
    # the heads were checked by fianet_config_options: hand them on, so
    # the LAVT part does not warn that the arguments are unknown
    converted = convert_lavt(
        dict(model=lavt), bert_state,
        reference_args=dict(mha=_args_of(checkpoint).get('mha') or ''))
    converted.update(own)
    return converted


def _args_of(checkpoint: Mapping) -> dict:
    args = checkpoint.get('args') if isinstance(checkpoint, Mapping) else None
    if isinstance(args, Namespace):
        return dict(vars(args))
    return dict(args) if isinstance(args, Mapping) else {}


def fianet_config_options(checkpoint: Mapping) -> Dict[str, object]:
    """What a config must set for a FIANet checkpoint's weights.

    Read from the saved ``args`` and the weights' shapes: the window size
    (from the relative position tables; the reference infers 12 from its
    pretrained file's name, so ``args.window12`` is False in training
    checkpoints), the number of TMEM blocks, the token limit and the object
    classes of its dataset.

    Args:
        checkpoint (Mapping): The loaded checkpoint.

    Returns:
        dict: Config keys (dotted) -> values, e.g.
        ``{'model.neck.num_blocks': 1, ...}``; ``'config'`` names the
        mmrrsis config of the saved ``args.dataset`` when it is known.

    Raises:
        ValueError: ``args`` name a model mmrrsis' FIANet is not (the
            ``lavt`` variant, a Swin other than base, several attention
            heads): the message names the option.
    """
    args = _args_of(checkpoint)
    state = _model_state(checkpoint)
    problems = []
    if args.get('model', 'lavt_one') != 'lavt_one':
        problems.append(
            f'args.model={args["model"]!r}: only FIANet\'s lavt_one model '
            '(BERT inside) runs with its backbone')
    if args.get('swin_type', 'base') != 'base':
        problems.append(
            f'args.swin_type={args["swin_type"]!r}: the FIANet configs are '
            'Swin-B; set model.backbone.embed_dims, depths and num_heads '
            'for it')
    mha = args.get('mha') or ''
    heads = [int(h) for h in mha.split('-')] if mha else [1, 1, 1, 1]
    if heads != [1, 1, 1, 1]:
        problems.append(
            f'args.mha={mha!r} (heads per stage {heads}): set '
            f'model.backbone.fusion_cfg.num_heads={heads} in the config')
    if problems:
        raise ValueError('This FIANet checkpoint cannot be converted as '
                         'is: ' + '; '.join(problems) + '.')
    options = {}
    tables = [
        v for k, v in state.items()
        if k.endswith('attn.relative_position_bias_table')
    ]
    if tables:
        side = round(tables[0].shape[0]**0.5)
        options['model.backbone.window_size'] = (side + 1) // 2
    blocks = {
        int(m[1])
        for k in state
        for m in [re.match(r'backbone\.tmem\.block\.(\d+)\.', k)] if m
    }
    options['model.neck.num_blocks'] = len(blocks)
    if 'num_tmem' in args and args['num_tmem'] != len(blocks):
        raise ValueError(
            f'args.num_tmem={args["num_tmem"]} but the weights hold '
            f'{len(blocks)} TMEM blocks: a damaged or edited checkpoint.')
    dataset = DATASETS.get(str(args.get('dataset', '')).lower())
    if dataset is not None:
        options['config'] = dataset[0]
        options['model.text_encoder.max_tokens'] = dataset[1]
        options['phrase classes'] = dataset[2]
    return options


def _config_value(cfg, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        if not hasattr(node, 'get') or part not in node:
            return None
        node = node[part]
    return node


def config_mismatches(cfg, options: Mapping[str, object]) -> List[str]:
    """The options of :func:`fianet_config_options` a config does not
    follow, as messages naming the option (``config`` and ``phrase
    classes`` are informative only)."""
    problems = []
    for key, value in options.items():
        if not key.startswith('model.'):
            continue
        found = _config_value(cfg, key)
        if found != value:
            problems.append(f'{key} is {found!r}, the weights need {value!r}')
    return problems


def convert_fianet_file(src: str,
                        dst: str,
                        config=None,
                        unsafe_load: bool = False) -> dict:
    """Read a FIANet checkpoint, convert it and write it for mmrrsis.

    The file is read without running code from it (weights, numbers and
    the ``argparse.Namespace`` of ``args``) unless ``unsafe_load``. The
    output holds ``state_dict`` and ``meta`` with ``converted_from``,
    ``reference_args`` (the saved arguments as plain values) and
    ``config_options`` (:func:`fianet_config_options`).

    Args:
        src (str): The reference checkpoint.
        dst (str): Output path.
        config (Config, optional): A config to check the weights against;
            a mismatch is refused, naming the option. Defaults to None.
        unsafe_load (bool): Unpickle the input completely (trusted files
            only). Defaults to False.

    Returns:
        dict: The ``meta`` written.

    Raises:
        ValueError: Saved arguments mmrrsis' FIANet cannot follow, or a
            config that does not fit the weights.
    """
    checkpoint = load_checkpoint_file(
        src,
        map_location='cpu',
        unsafe_load=unsafe_load,
        extra_safe_globals=REFERENCE_GLOBALS)
    options = fianet_config_options(checkpoint)
    if config is not None:
        problems = config_mismatches(config, options)
        if problems:
            raise ValueError(f'The config does not fit {src}: ' +
                             '; '.join(problems) + '.')
    state_dict = convert_fianet(checkpoint)
    plain = (str, int, float, bool, type(None))
    meta = dict(
        converted_from=src,
        reference='FIANet (Shaosifan/FIANet)',
        reference_args={
            k: v
            for k, v in _args_of(checkpoint).items() if isinstance(v, plain)
        },
        config_options=options,
        # checked by every loader (init_model, tools/test.py, load_from)
        config_requirements=[
            requirement(key, value, 'FIANet saved args / weight shapes')
            for key, value in options.items() if key.startswith('model.')
        ])
    save_converted(state_dict, dst, src, meta=meta)
    return meta


__all__ = [
    'DATASETS', 'config_mismatches', 'convert_fianet', 'convert_fianet_file',
    'fianet_config_options'
]
