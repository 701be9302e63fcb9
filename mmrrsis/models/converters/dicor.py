"""Rename the keys of DiCoR's reference checkpoints (zyGao1126/DiCoR @
07f08a70) into mmrrsis' layout, and read the arguments they were trained
with.

DiCoR saves one file per stage:

- ``coarse_best.pth`` / ``coarse_ep{N}.pth`` and ``joint_best.pth``:
  ``{'model', 'optimizer', 'lr_scheduler', 'epoch', 'args'}``, ``args`` a
  plain dict (``vars(args)``); ``model`` holds the multi-modal Swin
  (``backbone.layers.{i}``: Swin blocks, PWAM as ``fusion_global``,
  ``res_gate``; ``backbone.norm{i}``), the multi-scale fusion
  ``backbone.VMSF.*`` (VMSF in the coarse files, LVMSF in the joint one),
  in the joint file the guide ``backbone.localization_guidance.*``, the
  decoder ``classifier.*`` and BERT ``text_encoder.*``;
- ``refiner.pth``: the refiner's bare state dict (``enc1.*`` ...
  ``out_conv.*``), no arguments;
- ``localization_guidance_*.pth``: the guide adapter's bare state dict
  (``module.evidence_head.*``, ``module.ranker.*``, ``text_norm.*``; or
  the module alone without the prefix), no arguments.

:func:`convert_dicor` maps any of them (and several at once) onto
:class:`~mmrrsis.models.segmentors.DiCoREncoderDecoder`
(``configs/dicor/``). :func:`dicor_expected_cfg` turns the saved
arguments into the config values they imply; the converter records them
in the output's ``meta`` and :func:`check_expected_cfg` refuses a config
that differs, naming the option to set.
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch

from .common import requirement
from .lavt import convert_lavt
from .rmsin import _rename

# Swin hyper-parameters of DiCoR's swin_type (lib/segmentation.py)
SWIN_TYPES = {
    'tiny': (96, [2, 2, 6, 2], [3, 6, 12, 24]),
    'small': (96, [2, 2, 18, 2], [3, 6, 12, 24]),
    'base': (128, [2, 2, 18, 2], [4, 8, 16, 32]),
    'large': (192, [2, 2, 18, 2], [6, 12, 24, 48]),
}
# token limit of DiCoR's data loader per dataset (data/refdataset.py)
MAX_TOKENS = {'refsegrs': 20, 'rrsisd': 22, 'risbench': 50}

_VMSF_TOP = {
    'down_channel': 'reduce',
    'up_channel': 'expand',
    'bn': 'out_bn',
}
_GATE = {
    'local_embedding': 'local_conv',
    'bn1': 'local_bn',
    'global_embedding': 'global_conv',
    'bn2': 'global_bn',
    'global_act': 'act_conv',
    'bn3': 'act_bn',
}
# VisualFusionBlock -> VMSFBlock
_SELF_ATTN = {
    'norm1': 'norm1',
    'attn': 'attn',
    'norm2': 'norm2',
    'ffn.net.0': 'ffn.layers.0.0',
    'ffn.net.3': 'ffn.layers.1',
}
# _LVMSFBlock -> LVMSFBlock (ms_attn is a VisualFusionBlock)
_LVMSF_BLOCK = {
    'l2v': 'text_attn',
    'v2l': 'visual_attn',
    'lnL1': 'text_norm1',
    'lnL2': 'text_norm2',
    'lnV1': 'visual_norm1',
    'lnV2': 'visual_norm2',
    'ffnL.net.0': 'text_ffn.layers.0.0',
    'ffnL.net.3': 'text_ffn.layers.1',
    'ffnV.net.0': 'visual_ffn.layers.0.0',
    'ffnV.net.3': 'visual_ffn.layers.1',
}
# LocalizationGuidanceModule -> LocalizationGuide
_GUIDE = {
    'evidence_head.net.0': 'evidence_head.convs.0',
    'evidence_head.net.1': 'evidence_head.convs.1',
    'evidence_head.net.2': 'evidence_head.logit',
    'ranker.router.cand_route': 'ranker.candidate_route',
    'ranker.router.text_route': 'ranker.word_route',
    'ranker.router.text_query': 'ranker.word_query',
    'ranker.router.score_mlp': 'ranker.route_score',
    'ranker.visual_content': 'ranker.visual_embed',
    'ranker.query_content': 'ranker.query_embed',
    'ranker.geo_mlp': 'ranker.geometry_score',
}


class DiCoRConversionError(KeyError):
    """A key or an argument that has no place in mmrrsis' DiCoR."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def _vmsf_key(rest: str) -> Optional[str]:
    """A key under ``backbone.VMSF.`` -> under ``neck.``."""
    top = _rename(rest, _VMSF_TOP)
    if top is not None:
        return top
    match = re.match(r'fusion_gates\.(\d+)\.(.*)$', rest)
    if match is not None:
        new = _rename(match.group(2), _GATE)
        return None if new is None else f'gates.{match.group(1)}.{new}'
    match = re.match(r'blocks\.(\d+)\.(.*)$', rest)
    if match is None:
        return None
    block, name = match.groups()
    if name.startswith('ms_attn.'):
        new = _rename(name[len('ms_attn.'):], _SELF_ATTN)
        return None if new is None else f'blocks.{block}.self_attn.{new}'
    new = _rename(name, _LVMSF_BLOCK) or _rename(name, _SELF_ATTN)
    return None if new is None else f'blocks.{block}.{new}'


def _guide_key(rest: str) -> Optional[str]:
    """A key of the guide adapter (``module.*``, ``text_norm.*``, or the
    module's own ``evidence_head.*``, ``ranker.*``) -> under
    ``localization_guide.``."""
    if rest.startswith('text_norm.'):
        return rest
    if rest.startswith('module.'):
        rest = rest[len('module.'):]
    return _rename(rest, _GUIDE)


def _refiner_key(key: str) -> Optional[str]:
    """A key of RefineUNet -> under ``refiner.``."""
    match = re.match(r'enc([1-4])\.(\d)\.(conv|bn)\.(.*)$', key)
    if match is not None:
        level, conv, layer, param = match.groups()
        return f'encoders.{int(level) - 1}.{conv}.{layer}.{param}'
    match = re.match(r'bottleneck\.(\d)\.(conv|bn)\.(.*)$', key)
    if match is not None:
        return 'encoders.4.' + '.'.join(match.groups())
    match = re.match(r'up([1-4])\.(up|conv1|conv2)\.(.*)$', key)
    if match is not None:
        level, part, rest = match.groups()
        index = 4 - int(level)
        if part == 'up':
            return f'ups.{index}.{rest}'
        return f'decoders.{index}.{int(part[-1]) - 1}.{rest}'
    if key.startswith('out_conv.'):
        return key
    return None


def _strip_module(state: Mapping) -> Dict:
    """Remove DDP's ``module.`` prefix from a whole model state (not from
    an adapter state, whose own keys start with ``module.``)."""
    if any(k.startswith('module.backbone.') for k in state):
        return {(k[len('module.'):] if k.startswith('module.') else k): v
                for k, v in state.items()}
    return dict(state)


def checkpoint_kind(checkpoint: Mapping) -> str:
    """What a loaded DiCoR file is: ``'model'`` (coarse / joint, with
    ``model`` and ``args``), ``'refiner'`` or ``'guide'`` (bare states).

    Raises:
        DiCoRConversionError: Anything else.
    """
    if isinstance(checkpoint.get('model'), Mapping):
        return 'model'
    keys = list(checkpoint)
    if keys and all(_refiner_key(k) is not None for k in keys):
        return 'refiner'
    if keys and all(_guide_key(k) is not None for k in keys):
        return 'guide'
    raise DiCoRConversionError(
        'Not a DiCoR checkpoint: expected a dict with "model" (coarse_*.pth,'
        ' joint_best.pth), a refiner state (enc1.*, ..., out_conv.*; '
        'refiner.pth) or a guide adapter state (module.evidence_head.*, '
        'module.ranker.*, text_norm.*; localization_guidance_*.pth); got '
        f'keys {keys[:5]}.')


def _convert_model(state: Mapping) -> 'OrderedDict':
    """A coarse / joint ``model`` state."""
    lavt = OrderedDict()
    converted = OrderedDict()
    unknown = []
    for key, value in _strip_module(state).items():
        if key.startswith('backbone.VMSF.'):
            new = _vmsf_key(key[len('backbone.VMSF.'):])
            target = None if new is None else 'neck.' + new
        elif key.startswith('backbone.localization_guidance.'):
            new = _guide_key(key[len('backbone.localization_guidance.'):])
            target = None if new is None else 'localization_guide.' + new
        elif key.startswith('refineHead.'):
            new = _refiner_key(key[len('refineHead.'):])
            target = None if new is None else 'refiner.' + new
        else:
            # LAVT's layout, with the PWAMs named fusion_global
            lavt[key.replace('.fusion_global.', '.fusion.')] = value
            continue
        if target is None:
            unknown.append(key)
        else:
            converted[target] = value
    if unknown:
        raise DiCoRConversionError(
            'Keys with no place in the mmrrsis layout of DiCoR: ' +
            ', '.join(unknown[:10]) + (' ...' if len(unknown) > 10 else ''))
    out = convert_lavt(lavt)
    out.update(converted)
    return out


def _convert_bare(state: Mapping, rename, prefix: str,
                  what: str) -> 'OrderedDict':
    out = OrderedDict()
    for key, value in state.items():
        new = rename(key)
        if new is None:
            raise DiCoRConversionError(
                f'The {what} key {key} has no place in the mmrrsis layout.')
        out[prefix + new] = value
    return out


def convert_dicor(checkpoint: Mapping,
                  refiner: Optional[Mapping] = None,
                  guide: Optional[Mapping] = None) -> 'OrderedDict':
    """Convert DiCoR checkpoints into one mmrrsis state dict.

    Args:
        checkpoint (Mapping): A loaded DiCoR file of any kind (see
            :func:`checkpoint_kind`).
        refiner (Mapping, optional): A loaded ``refiner.pth`` to add (the
            full test model is ``joint_best.pth`` + ``refiner.pth``).
            Defaults to None.
        guide (Mapping, optional): A loaded guide adapter file to add; its
            tensors replace those of ``checkpoint`` (DiCoR's test loads
            the adapter first and ``joint_best.pth`` over it, so leave it
            out to reproduce that). Defaults to None.

    Returns:
        OrderedDict: Keys of :class:`DiCoREncoderDecoder`
        (``text_encoder.bert.``, ``backbone.``, ``neck.``,
        ``localization_guide.``, ``decode_head.``, ``refiner.``).

    Raises:
        DiCoRConversionError: A key with no place in the layout.
    """
    parts = [checkpoint] + [p for p in (refiner, guide) if p is not None]
    out = OrderedDict()
    for part in parts:
        kind = checkpoint_kind(part)
        if kind == 'model':
            out.update(_convert_model(part['model']))
        elif kind == 'refiner':
            out.update(
                _convert_bare(part, _refiner_key, 'refiner.', 'refiner'))
        else:
            out.update(
                _convert_bare(part, _guide_key, 'localization_guide.',
                              'guide adapter'))
    return out


def dicor_expected_cfg(args: Mapping) -> Dict[str, object]:
    """The config values DiCoR's saved ``args`` imply.

    Shapes (Swin size, VMSF blocks) are also checked by a strict load;
    these are the values a load cannot see: the window (12 when
    ``--window12`` or a ``window12`` Swin checkpoint, else 7), PWAM heads,
    the token limit of the dataset, the guide's boost ``alpha`` and the
    input size.

    Args:
        args (Mapping): ``checkpoint['args']``.

    Returns:
        dict: Dotted config key -> value.

    Raises:
        DiCoRConversionError: A value mmrrsis cannot represent (an unknown
            ``swin_type`` or dataset).
    """
    expected = {}
    swin_type = args.get('swin_type', 'base')
    if swin_type not in SWIN_TYPES:
        raise DiCoRConversionError(
            f'args.swin_type="{swin_type}" is not one of {list(SWIN_TYPES)}.')
    embed, depths, heads = SWIN_TYPES[swin_type]
    expected['model.backbone.embed_dims'] = embed
    expected['model.backbone.depths'] = depths
    expected['model.backbone.num_heads'] = heads
    window12 = bool(args.get('window12')) or 'window12' in str(
        args.get('pretrained_swin_weights') or '')
    expected['model.backbone.window_size'] = 12 if window12 else 7
    expected['model.backbone.fusion_cfg.num_heads'] = int(
        args.get('num_heads_fusion', 1))
    expected['model.neck.num_blocks'] = int(args.get('num_tmem', 3))
    dataset = args.get('dataset')
    if dataset is not None:
        if dataset not in MAX_TOKENS:
            raise DiCoRConversionError(
                f'args.dataset="{dataset}" is not one of {list(MAX_TOKENS)}.')
        expected['model.text_encoder.max_tokens'] = MAX_TOKENS[dataset]
    if 'alpha' in args:
        expected['model.localization_guide.alpha'] = float(args['alpha'])
    return expected


# what a config that does not set these options gets
_DEFAULTS = {'model.backbone.fusion_cfg.num_heads': 1}


def _cfg_value(cfg, dotted: str):
    node = cfg
    for part in dotted.split('.'):
        node = node.get(part) if hasattr(node, 'get') else None
        if node is None:
            return _DEFAULTS.get(dotted)
    return node


def dicor_requirements(expected: Mapping[str, object]) -> List[dict]:
    """:func:`dicor_expected_cfg` as the ``config_requirements`` that every
    loader of mmrrsis checks (``init_model``, ``tools/test.py``,
    ``load_from``: :func:`.common.check_config_requirements`), so
    converted weights are refused by a config of another setting, not only
    by the converter's ``--config`` check.

    The guide's ``alpha`` is left out: a config without the guide (the
    coarse model) cannot load a guided checkpoint strictly anyway.
    """
    return [
        requirement(key, value, f'DiCoR saved args ({key.split(".")[-1]})',
                    default=_DEFAULTS.get(key))
        for key, value in expected.items()
        if not key.startswith('model.localization_guide.')
    ]


def check_expected_cfg(expected: Mapping[str, object], cfg,
                       source: str = 'the checkpoint') -> None:
    """Refuse a config that differs from what a checkpoint was trained
    with.

    Args:
        expected (Mapping): From :func:`dicor_expected_cfg` (kept in a
            converted checkpoint's ``meta['expected_cfg']``).
        cfg (Config | dict): The config (``model.*`` keys are read).
        source (str): For the message. Defaults to ``'the checkpoint'``.

    Raises:
        DiCoRConversionError: Names each differing option and the
            ``--cfg-options`` that fixes it.
    """
    wrong = []
    for key, value in expected.items():
        have = _cfg_value(cfg, key)
        if have is None and key.startswith('model.localization_guide.'):
            continue  # a config without the guide (the coarse model)
        if isinstance(value, list) and isinstance(have, (list, tuple)):
            have = list(have)
        if have != value:
            wrong.append((key, have, value))
    if wrong:
        raise DiCoRConversionError(
            f'{source} was trained with settings the config does not have: '
            + '; '.join(f'{k} is {h!r}, the reference used {v!r}'
                        for k, h, v in wrong) + '. Set them with '
            '--cfg-options ' +
            ' '.join(f'{k}={v!r}'.replace(' ', '') for k, _, v in wrong) +
            ' (or pick the config of that setting).')


def check_loads_into(state_dict: Mapping, cfg) -> None:
    """Build the config's model (nothing pretrained, BERT from its
    configuration) and load ``state_dict`` strictly.

    Raises:
        DiCoRConversionError: Missing or unexpected keys, or other shapes,
            named.
    """
    from mmengine.registry import init_default_scope

    from mmrrsis.apis import prepare_for_checkpoint
    from mmrrsis.registry import MODELS

    model_cfg = cfg.model.copy() if hasattr(cfg, 'model') else dict(cfg)
    prepare_for_checkpoint(model_cfg)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    model = MODELS.build(model_cfg)
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict
               and not k.endswith(('position_ids', 'token_type_ids'))]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k} {tuple(v.shape)} vs {tuple(own[k].shape)}'
              for k, v in state_dict.items()
              if k in own and v.shape != own[k].shape]
    if missing or unexpected or shapes:
        raise DiCoRConversionError(
            'The converted weights do not fit the config\'s model: ' +
            '; '.join(f'{what}: {items[:5]}' for what, items in (
                ('missing', missing), ('unexpected', unexpected),
                ('other shapes', shapes)) if items) +
            '. Pick the config of that stage (coarse: '
            'configs/dicor/dicor-coarse_*.py; joint_best.pth + refiner.pth: '
            'configs/dicor/dicor_swin-b_*.py).')


def convert_dicor_files(src: str,
                        dst: str,
                        refiner: Optional[str] = None,
                        guide: Optional[str] = None,
                        config=None,
                        unsafe_load: bool = False) -> dict:
    """Read DiCoR files, convert them, check them, write one checkpoint.

    The files are read without running code from them
    (:func:`mmrrsis.compat.load_checkpoint_file`; DiCoR's ``args`` is a
    plain dict) unless ``unsafe_load``. The output is
    ``dict(state_dict=..., meta=dict(converted_from, reference_args,
    expected_cfg))``, written atomically.

    Args:
        src (str): A DiCoR file (``coarse_*.pth``, ``joint_best.pth``,
            ``refiner.pth`` or a guide adapter file).
        dst (str): Output path.
        refiner (str, optional): ``refiner.pth`` to add. Defaults to None.
        guide (str, optional): A guide adapter file to add. Defaults to
            None.
        config (str | Config, optional): The config the result is for:
            its options are checked against the saved arguments
            (:func:`check_expected_cfg`) and the weights must load into its
            model strictly. Defaults to None (no check).
        unsafe_load (bool): Unpickle the inputs completely (trusted files
            only). Defaults to False.

    Returns:
        dict: ``kinds`` (of each input), ``tensors`` (count),
        ``expected_cfg``.
    """
    from mmengine import Config

    from mmrrsis.compat import load_checkpoint_file
    from mmrrsis.utils import write_atomically

    def read(path):
        return load_checkpoint_file(
            path, map_location='cpu', unsafe_load=unsafe_load)

    main = read(src)
    extra = dict(
        refiner=None if refiner is None else read(refiner),
        guide=None if guide is None else read(guide))
    kinds = [checkpoint_kind(main)] + [
        checkpoint_kind(v) for v in extra.values() if v is not None
    ]
    state_dict = convert_dicor(main, **extra)
    args = dict(main.get('args') or {}) if kinds[0] == 'model' else {}
    expected = dicor_expected_cfg(args) if args else {}
    if config is not None:
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        check_expected_cfg(expected, cfg, src)
        check_loads_into(state_dict, cfg)
    meta = dict(
        converted_from=[p for p in (src, refiner, guide) if p],
        reference_args={k: v for k, v in args.items()
                        if isinstance(v, (str, int, float, bool, type(None)))},
        expected_cfg=expected,
        config_requirements=dicor_requirements(expected))
    if osp.dirname(dst):
        os.makedirs(osp.dirname(dst), exist_ok=True)
    write_atomically(
        osp.dirname(dst) or '.', osp.basename(dst),
        lambda tmp: torch.save(
            dict(state_dict=dict(state_dict), meta=meta),
            osp.join(osp.dirname(dst) or '.', tmp)))
    return dict(kinds=kinds, tensors=len(state_dict), expected_cfg=expected)


__all__ = [
    'DiCoRConversionError', 'MAX_TOKENS', 'SWIN_TYPES', 'check_expected_cfg',
    'check_loads_into', 'checkpoint_kind', 'convert_dicor',
    'convert_dicor_files', 'dicor_expected_cfg', 'dicor_requirements'
]
