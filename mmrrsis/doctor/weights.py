"""Check the pretrained weights a config names, before a long run.

A config names pretrained files in three kinds of places:

- ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` on any
  module (the Swin-B of the LAVT configs, mmpretrain's ConvNeXt-B or
  SwinV2-B): a local path, a URL (read through mmengine into torch hub's
  cache, ``<torch hub dir>/checkpoints/<file name>``) or an
  ``open-mmlab://`` / ``mmcls://`` name (a URL from mmengine's lists);
- a text encoder's ``pretrained`` (``bert-base-uncased``): a local folder
  or a HuggingFace name, read from the HuggingFace cache;
- ``load_from``: a checkpoint of the whole model, which the runner loads.

:func:`check_weights` resolves each one without any download, says which
are missing and how to get them, and checks every local file against the
model the config builds (built offline, nothing loaded): the keys the
loader will see after the same unwrapping and prefix handling that the
module's initialisation applies (mmengine's ``PretrainedInit`` with or
without ``prefix``, mmseg's Swin with its own rules, HuggingFace's BERT
names), and their shapes. Position tables that the backbone's loader
resizes (relative position bias, absolute position embedding) may differ
in size; every other shape must match.
"""
import copy
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

import torch
from torch import nn

from mmrrsis.utils.config_utils import type_name

#: parameters whose size the backbones' own loaders adapt (interpolation)
RESIZED_ON_LOAD = ('relative_position_bias_table', 'absolute_pos_embed')
#: buffers that carry learned values (other buffers are rebuilt at
#: construction, e.g. relative position indices)
LEARNED_BUFFERS = ('running_mean', 'running_var')
#: a backbone's output norms (`norm0`, `norm1`, ...)
OUTPUT_NORM = re.compile(r'^norm\d+\.')
#: files of a HuggingFace model folder
HF_CONFIG = 'config.json'
HF_WEIGHTS = ('model.safetensors', 'pytorch_model.bin')
HF_TOKENIZER = ('vocab.txt', 'tokenizer.json')


@dataclass
class WeightCheck:
    """What the check found about one pretrained file of a config.

    Attributes:
        where (str): The config key naming it, e.g.
            ``model.backbone.encoder.init_cfg.checkpoint``.
        name (str): The value written there.
        kind (str): ``'checkpoint'`` (an ``init_cfg``) or
            ``'huggingface'`` (a text encoder's ``pretrained``).
        local (str, optional): The local file or folder it resolves to;
            None when it is not on this machine.
        problems (list[str]): What stops a run or loads wrong weights.
        notes (list[str]): What the run will do that a user may want to
            know (keys the file lacks keep their initialisation, tables
            resized on load).
        how_to_get (str): For a missing file, how to get it.
        keys_checked (int): Model keys compared with the file.
    """
    where: str
    name: str
    kind: str
    local: Optional[str] = None
    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    how_to_get: str = ''
    keys_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.local is not None and not self.problems


# --------------------------------------------------------------- finding
def _walk(node, path: str) -> Iterator[Tuple[str, dict]]:
    """(dotted path, dict) for every dict inside ``node``."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _walk(value, f'{path}.{i}')


def _pretrained_inits(node: dict, path: str) -> Iterator[Tuple[str, dict]]:
    init_cfg = node.get('init_cfg')
    items = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get('type') == 'Pretrained':
            suffix = f'.{i}' if isinstance(init_cfg, (list, tuple)) else ''
            yield f'{path}.init_cfg{suffix}', item


def _is_text_encoder(node: dict) -> bool:
    from mmrrsis.models.text_encoders import BaseTextEncoder
    from mmrrsis.registry import MODELS
    name = type_name(node)
    if not name:
        return False
    try:
        cls = MODELS.get(name)
    except Exception:  # a type of another scope: not ours
        return False
    return isinstance(cls, type) and issubclass(cls, BaseTextEncoder)


def _hf_files_needed(node: dict) -> Tuple[str, ...]:
    """The files a BERT-like text encoder reads from ``pretrained``."""
    needed = [HF_CONFIG]
    if node.get('bert_config') is None:
        needed.append('weights')
    if node.get('vocab') is None:
        needed.append('tokenizer')
    return tuple(needed)


# ------------------------------------------------------------- resolving
def hub_checkpoint_dir() -> str:
    """Where mmengine keeps a checkpoint it downloaded from a URL."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def checkpoint_url(name: str) -> Optional[str]:
    """The URL behind an ``open-mmlab://`` / ``mmcls://`` name, or the
    name itself when it is a URL; None for a local path."""
    if name.startswith(('http://', 'https://')):
        return name
    if name.startswith(('open-mmlab://', 'openmmlab://', 'mmcls://')):
        from mmengine.runner.checkpoint import (
            get_external_models,
            get_mmcls_models,
        )
        scheme, model = name.split('://', 1)
        urls = (get_mmcls_models()
                if scheme == 'mmcls' else get_external_models())
        url = urls.get(model)
        if url is None:
            raise KeyError(f'{name}: mmengine knows no model "{model}".')
        return url
    return None


def resolve_checkpoint(name: str) -> Tuple[Optional[str], str]:
    """The local file of a checkpoint name, and how to get it if absent.

    Args:
        name (str): A path, a URL or an ``open-mmlab://`` / ``mmcls://``
            name, as in ``init_cfg.checkpoint``.

    Returns:
        tuple: (local file or None, instructions when it is missing).
    """
    try:
        url = checkpoint_url(name)
    except KeyError as e:
        return None, str(e)
    if url is None:
        if '://' in name:
            return None, (f'{name}: the scheme is not one this check can '
                          'resolve offline; copy the file to a local path '
                          'and set that path in the config.')
        path = osp.expanduser(name)
        if osp.isfile(path):
            return path, ''
        return None, (f'{path} does not exist: copy the file there, or set '
                      'the config key to where it is.')
    cached = osp.join(hub_checkpoint_dir(),
                      osp.basename(url.split('?')[0]))
    if osp.isfile(cached):
        return cached, ''
    return None, (
        f'not downloaded yet (looked for {cached}). The run would download '
        f'it when it starts; to get it now: mkdir -p {hub_checkpoint_dir()}'
        f' && wget -P {hub_checkpoint_dir()} {url} (or download it anywhere '
        'and set the config key to the local path).')


def resolve_hf_model(name: str,
                     needed: Tuple[str, ...]) -> Tuple[Optional[str], str,
                                                       Dict[str, str]]:
    """The local files of a HuggingFace model (folder or cache).

    Args:
        name (str): A local folder or a hub name (``bert-base-uncased``).
        needed (tuple[str]): Of ``'config.json'``, ``'weights'`` and
            ``'tokenizer'``.

    Returns:
        tuple: (the folder or cached snapshot holding them, or None;
        instructions when something is missing; the found files by role).
    """
    if osp.isdir(osp.expanduser(name)):
        folder = osp.expanduser(name)

        def find(filename):
            path = osp.join(folder, filename)
            return path if osp.isfile(path) else None
    else:
        from huggingface_hub import try_to_load_from_cache
        folder = None

        def find(filename):
            path = try_to_load_from_cache(name, filename)
            return path if isinstance(path, str) else None

    found = {}
    for role in needed:
        names = dict(weights=HF_WEIGHTS, tokenizer=HF_TOKENIZER).get(
            role, (role, ))
        for filename in names:
            path = find(filename)
            if path:
                found[role] = path
                break
    missing = [role for role in needed if role not in found]
    if not missing:
        return folder or osp.dirname(found[needed[0]]), '', found
    files = ' '.join(
        dict(weights='model.safetensors', tokenizer='vocab.txt').get(
            role, role) for role in missing)
    if folder:
        how = (f'{folder} lacks {", ".join(missing)}: put {files} there '
               '(e.g. from a machine with access: huggingface-cli download '
               f'<model> {files} --local-dir {folder}).')
    else:
        how = (f'"{name}" is not in the HuggingFace cache '
               f'({", ".join(missing)} missing). Get it with: '
               f'huggingface-cli download {name} {files}'
               ' (or save it with transformers somewhere and set the config '
               'key to that folder).')
    return None, how, found


# -------------------------------------------------------------- building
def _offline_text_encoder(node: dict, folder: Optional[str]) -> None:
    """Make a text encoder node build without a download (in place),
    with the architecture of its pretrained model when known."""
    from mmrrsis.registry import MODELS
    cls = MODELS.get(type_name(node))
    if hasattr(cls, 'offline_cfg'):  # the text encoders' own setup
        new = cls.offline_cfg(dict(node), purpose='random')
        node.clear()
        node.update(new)
        return
    if node.get('bert_config') is None:
        bert_config = {}
        if folder and osp.isfile(osp.join(folder, HF_CONFIG)):
            from mmrrsis.apis.model_config import bert_config_of
            bert_config = bert_config_of(folder)
        node['bert_config'] = bert_config
    node['pretrained'] = None
    node['vocab'] = 'mmrrsis-tiny'


def build_offline(model_cfg: dict, folders: Mapping[str, str]) -> nn.Module:
    """The model of ``model_cfg`` with random weights, nothing downloaded
    or loaded (``init_cfg`` kept on the modules, not applied).

    Args:
        model_cfg (dict): ``cfg.model``.
        folders (Mapping[str, str]): Text encoder config path -> the local
            folder of its pretrained model (for its architecture).
    """
    from mmengine.model import revert_sync_batchnorm

    from mmrrsis.registry import MODELS
    model_cfg = copy.deepcopy(model_cfg)
    for path, node in list(_walk(model_cfg, 'model')):
        if _is_text_encoder(node):
            _offline_text_encoder(node, folders.get(path))
    return revert_sync_batchnorm(MODELS.build(model_cfg))


# -------------------------------------------------------------- comparing
def _unwrap(checkpoint) -> Mapping:
    if isinstance(checkpoint, Mapping):
        for key in ('state_dict', 'model'):
            if isinstance(checkpoint.get(key), Mapping):
                return checkpoint[key]
    return checkpoint


def keys_as_loaded(module: nn.Module, checkpoint: Mapping,
                   init_cfg: dict) -> Dict[str, torch.Tensor]:
    """The file's tensors under the names ``module`` will load them by.

    Follows the module's initialisation: mmseg's ``SwinTransformer``
    (``state_dict`` / ``model`` unwrapped, ``backbone.`` and ``module.``
    stripped), mmengine's ``PretrainedInit`` without ``prefix``
    (``state_dict`` unwrapped, ``module.`` stripped) or with it (only the
    keys under the prefix, without it).

    Raises:
        KeyError: No key of the file is under ``prefix``.
    """
    from mmseg.models.backbones import SwinTransformer as MMSegSwin
    prefix = init_cfg.get('prefix')
    if isinstance(module, MMSegSwin) and prefix is None:
        state = _unwrap(checkpoint)
        state = {re.sub(r'^backbone\.', '', k): v for k, v in state.items()}
        if next(iter(state), '').startswith('module.'):
            state = {k[7:]: v for k, v in state.items()}
        return state
    state = checkpoint.get('state_dict', checkpoint)
    if prefix is None:
        return {re.sub(r'^module\.', '', k): v for k, v in state.items()}
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    state = {k[len(prefix):]: v for k, v in state.items()
             if k.startswith(prefix)}
    if not state:
        first = list(checkpoint.get('state_dict', checkpoint))[:3]
        raise KeyError(f'no key of the file starts with prefix="{prefix}" '
                       f'(its first keys: {first}); set init_cfg.prefix to '
                       'the prefix of its backbone keys, or None.')
    return state


def expected_tensors(module: nn.Module,
                     skip_language: bool = True) -> Dict[str, torch.Size]:
    """The parameters and learned buffers of ``module`` (name -> shape).

    With ``skip_language`` (for an image checkpoint), the language modules
    inside ``module`` (e.g. the fusion of :class:`~mmrrsis.models.
    backbones.LanguageAwareSwin`, trained from scratch) are left out."""
    from mmrrsis.models.utils import MultiScaleTextModule
    language = tuple(
        name + '.' for name, sub in module.named_modules()
        if skip_language and name and isinstance(sub, MultiScaleTextModule))
    shapes = {name: p.shape for name, p in module.named_parameters()}
    shapes.update({
        name: b.shape
        for name, b in module.named_buffers()
        if name.rsplit('.', 1)[-1] in LEARNED_BUFFERS
    })
    return {k: v for k, v in shapes.items() if not k.startswith(language)}


def compare(expected: Mapping[str, torch.Size], found: Mapping[str, tuple],
            check: WeightCheck, what: str) -> None:
    """Record in ``check`` the model keys the file lacks and the shapes
    that differ."""
    check.keys_checked += len(expected)
    missing = [k for k in expected if k not in found]
    wrong, resized = [], []
    for key, shape in expected.items():
        if key not in found or tuple(found[key]) == tuple(shape):
            continue
        if any(name in key for name in RESIZED_ON_LOAD) and \
                tuple(found[key])[-1:] == tuple(shape)[-1:]:
            resized.append(key)
        else:
            wrong.append(f'{key}: file {tuple(found[key])}, model '
                         f'{tuple(shape)}')
    if len(missing) == len(expected):
        check.problems.append(
            f'none of the {len(expected)} keys of {what} is in the file '
            f'(model keys like {list(expected)[:2]}, file keys like '
            f'{list(found)[:2]}): another model, or another prefix.')
        return
    if wrong:
        check.problems.append(
            f'{len(wrong)} tensors of {what} have other shapes than the '
            'model (another architecture or size; the loader would skip '
            'them): ' + '; '.join(wrong[:5]) +
            (' ...' if len(wrong) > 5 else ''))
    # output norms norm{i}: a classification checkpoint holds only its
    # last stage's (mmpretrain), or calls it `norm` (original Swin layout)
    norms = [k for k in missing if OUTPUT_NORM.match(k)]
    missing = [k for k in missing if not OUTPUT_NORM.match(k)]
    if missing:
        check.problems.append(
            f'{len(missing)} of {len(expected)} keys of {what} are not in '
            'the file and would keep their random initialisation (an '
            'incomplete file, or another model): ' + ', '.join(missing[:6]) +
            (' ...' if len(missing) > 6 else ''))
    if norms:
        check.notes.append(
            f'{len(norms)} output-norm tensors of {what} are not in the '
            'file (classification checkpoints have at most the last one) '
            'and keep their initialisation: ' + ', '.join(norms[:8]) +
            (' ...' if len(norms) > 8 else ''))
    if resized:
        check.notes.append(
            f'{len(resized)} position tables differ in size and are resized '
            f'when loaded (e.g. {resized[0]}).')


def _hf_shapes(path: str) -> Dict[str, tuple]:
    """Tensor names and shapes of a HuggingFace weights file, under the
    names ``from_pretrained`` gives them (``bert.`` prefix dropped,
    ``gamma``/``beta`` read as ``weight``/``bias``)."""
    if path.endswith('.safetensors'):
        from safetensors import safe_open
        with safe_open(path, framework='pt') as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    else:
        from mmrrsis.compat.checkpoint import load_checkpoint_file
        shapes = {k: tuple(v.shape)
                  for k, v in _unwrap(load_checkpoint_file(path)).items()}
    out = {}
    for key, shape in shapes.items():
        key = re.sub(r'^bert\.', '', key)
        key = re.sub(r'\.gamma$', '.weight', re.sub(r'\.beta$', '.bias', key))
        out[key] = shape
    return out


# ------------------------------------------------------------------ main
def check_weights(config, cfg_options: Optional[dict] = None,
                  verify: bool = True) -> List[WeightCheck]:
    """Resolve and check every pretrained file ``config`` names.

    Args:
        config (str | Config): Config file or object.
        cfg_options (dict, optional): Overrides. Defaults to None.
        verify (bool): Build the model offline and compare each local
            file with it (keys and shapes). Defaults to True.

    Returns:
        list[WeightCheck]: One per pretrained file, in config order.
    """
    from mmengine.registry import init_default_scope

    from mmrrsis.apis.model_config import load_config
    from mmrrsis.compat.checkpoint import load_checkpoint_file

    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmrrsis'))
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') \
        else dict(cfg.model)
    checks, inits, encoders, folders = [], [], [], {}
    for path, node in _walk(model_cfg, 'model'):
        for where, init in _pretrained_inits(node, path):
            name = str(init.get('checkpoint'))
            check = WeightCheck(f'{where}.checkpoint', name, 'checkpoint')
            check.local, check.how_to_get = resolve_checkpoint(name)
            checks.append(check)
            inits.append((check, init))
        if _is_text_encoder(node) and node.get('pretrained'):
            needed = _hf_files_needed(node)
            name = str(node['pretrained'])
            check = WeightCheck(f'{path}.pretrained', name, 'huggingface')
            check.local, check.how_to_get, found = resolve_hf_model(
                name, needed)
            if found.get(HF_CONFIG):
                folders[path] = osp.dirname(found[HF_CONFIG])
            checks.append(check)
            if check.local and 'weights' in needed:
                encoders.append((check, path, found['weights']))
    if cfg.get('load_from'):  # a whole-model checkpoint the runner loads
        name = str(cfg.load_from)
        check = WeightCheck('load_from', name, 'checkpoint')
        check.local, check.how_to_get = resolve_checkpoint(name)
        checks.append(check)
        inits.append((check, None))
    if not verify or not any(c.local for c in checks):
        return checks

    model = build_offline(model_cfg, folders)
    for check, init in inits:
        if check.local is None:
            continue
        modules = [('', model)] if init is None else [
            (name, m) for name, m in model.named_modules()
            if _has_init(m, init)
        ]
        if not modules:
            check.notes.append('no module of the built model carries this '
                               'init_cfg; not compared')
            continue
        try:
            checkpoint = load_checkpoint_file(check.local)
        except Exception as e:  # damaged, unsafe, not a checkpoint
            check.problems.append(f'{check.local} cannot be read: {e}')
            continue
        for name, module in modules:
            what = f'model.{name}' if name else 'the model'
            try:
                state = keys_as_loaded(module, checkpoint, init or {})
            except KeyError as e:
                check.problems.append(str(e.args[0]))
                continue
            compare(expected_tensors(module, skip_language=bool(init)),
                    {k: tuple(v.shape) for k, v in state.items()
                     if isinstance(v, torch.Tensor)}, check, what)
    for check, path, weights in encoders:
        module = model.get_submodule(path[len('model.'):])
        bert = getattr(module, 'bert', module)
        try:
            found = _hf_shapes(weights)
        except Exception as e:
            check.problems.append(f'{weights} cannot be read: {e}')
            continue
        compare(expected_tensors(bert), found, check,
                f'{path} ({type(bert).__name__})')
    return checks


def _has_init(module: nn.Module, init: dict) -> bool:
    own = getattr(module, 'init_cfg', None)
    items = own if isinstance(own, (list, tuple)) else [own]
    return any(
        isinstance(item, dict) and item.get('type') == 'Pretrained'
        and item.get('checkpoint') == init.get('checkpoint')
        and item.get('prefix') == init.get('prefix') for item in items)


def format_weights_report(checks: List[WeightCheck]) -> str:
    """A human-readable report of :func:`check_weights`."""
    if not checks:
        return 'The config names no pretrained file (nothing to check).'
    lines = []
    for check in checks:
        state = ('OK' if check.ok else
                 'MISSING' if check.local is None else 'PROBLEM')
        lines.append(f'[{state}] {check.where} = {check.name}')
        if check.local:
            lines.append(f'    local: {check.local}'
                         + (f' ({check.keys_checked} model keys compared)'
                            if check.keys_checked else ''))
        else:
            lines.append(f'    how to get it: {check.how_to_get}')
        lines += [f'    error: {p}' for p in check.problems]
        lines += [f'    note: {n}' for n in check.notes]
    bad = [c for c in checks if not c.ok]
    lines.append(
        f'{len(checks) - len(bad)} of {len(checks)} pretrained files ready'
        + ('' if not bad else
           f'; {sum(c.local is None for c in bad)} missing, '
           f'{sum(c.local is not None for c in bad)} with problems'))
    return os.linesep.join(lines)


__all__ = [
    'WeightCheck', 'check_weights', 'format_weights_report',
    'resolve_checkpoint', 'resolve_hf_model', 'keys_as_loaded',
    'hub_checkpoint_dir', 'checkpoint_url'
]
