"""What every converter of reference checkpoints shares: reading the file
safely, the reference's saved arguments, the requirements they put on our
config, writing the result atomically, and the command line.

A converter module (``lavt.py``, ``rmsin.py``, ...) exposes
``convert_<model>(checkpoint, bert_state=None, reference_args=None)``,
which returns our state dict as a :class:`ConvertedState`: a dict of
tensors whose ``meta`` says what the conversion read from the reference's
saved arguments (its ``args`` Namespace or dict):

- ``meta['reference_args']``: those arguments (plain values);
- ``meta['config_requirements']``: what they require of the config the
  weights are loaded into, e.g. ``--mha 2-2-4-8`` requires
  ``model.backbone.fusion_cfg.num_heads=[2, 2, 4, 8]`` (a list of
  ``dict(option, value, default, reason)``).

:func:`save_converted` writes both into the checkpoint's ``meta``, and
every loader of mmrrsis (``init_model``, ``tools/test.py``, ``load_from``)
calls :func:`check_config_requirements`, so weights never load silently
into a model that computes something else. An argument the model cannot
express is refused by the converter with a message naming the config
option.
"""
import argparse
import inspect
import logging
import os
import os.path as osp
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Mapping, Optional

import torch
from mmengine.logging import print_log

from mmrrsis.compat import REFERENCE_GLOBALS, load_checkpoint_file
from mmrrsis.utils import write_atomically


class ConvertedState(OrderedDict):
    """A converted state dict, plus what the conversion learned.

    Attributes:
        meta (dict): ``reference_args`` and ``config_requirements`` (see
            the module docstring), written by :func:`save_converted`.
    """

    def __init__(self, *args, meta: Optional[dict] = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meta = dict(meta or {})


class ConfigRequirementError(ValueError):
    """Converted weights need config values the config does not have."""


def strip_module(state: Mapping) -> Dict:
    """``state`` without the ``module.`` prefix that DDP adds."""
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state.items()
    }


def plain(value: Any) -> Any:
    """A value as plain data (str, number, bool, None, list, dict) that a
    ``weights_only`` checkpoint can hold."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def reference_args(checkpoint: Mapping,
                   given: Optional[Mapping] = None) -> Dict[str, Any]:
    """The reference's saved arguments, updated by ``given``.

    Args:
        checkpoint (Mapping): The loaded reference checkpoint; its
            ``args`` (an ``argparse.Namespace`` or a dict) when present.
        given (Mapping, optional): Arguments stated by the user (e.g. for
            a checkpoint that holds none); they win. Defaults to None.

    Returns:
        dict: Plain values; empty when nothing is known.
    """
    args = checkpoint.get('args') if isinstance(checkpoint, Mapping) else None
    if isinstance(args, argparse.Namespace):
        args = vars(args)
    out = {str(k): plain(v) for k, v in dict(args or {}).items()}
    out.update({str(k): plain(v) for k, v in dict(given or {}).items()})
    return out


def requirement(option: str, value: Any, reason: str,
                default: Any = None) -> dict:
    """One config requirement of converted weights.

    Args:
        option (str): Dotted config path, e.g.
            ``'model.backbone.fusion_cfg.num_heads'``.
        value: The value the weights need.
        reason (str): Which reference argument (or weight) says so.
        default: What the model uses when the config omits ``option``.
            Defaults to None (omitting it does not satisfy the
            requirement).

    Returns:
        dict: ``option``, ``value``, ``default``, ``reason``.
    """
    return dict(option=option, value=plain(value), default=plain(default),
                reason=reason)


def _lookup(tree: Mapping, option: str, default: Any) -> Any:
    node = tree
    for key in option.split('.'):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def _same(got: Any, want: Any) -> bool:
    got, want = plain(got), plain(want)
    if isinstance(want, list) and not isinstance(got, list):
        got = [got] * len(want)
    return got == want


def check_config_requirements(meta: Optional[Mapping], cfg,
                              source: str) -> None:
    """Raise when a config does not give converted weights what they need.

    Args:
        meta (Mapping, optional): The checkpoint's ``meta``; nothing is
            checked without ``config_requirements``.
        cfg (Config | dict): The full config the model was built from.
        source (str): The checkpoint, named in the message.

    Raises:
        ConfigRequirementError: With each option, the value needed, the
            config's value and the reference argument behind it.
    """
    reqs = (meta or {}).get('config_requirements') or []
    if not reqs:
        return
    tree = cfg if isinstance(cfg, Mapping) else cfg.to_dict()  # a Config
    wrong = []
    for req in reqs:
        got = _lookup(tree, req['option'], req.get('default'))
        if not _same(got, req['value']):
            wrong.append(req | dict(got=plain(got)))
    if not wrong:
        return
    lines = [f'The checkpoint {source} was converted from a reference model '
             'whose saved arguments this config does not match, so its '
             'weights would compute something else:']
    for req in wrong:
        lines.append(f"- {req['option']} must be {req['value']!r} "
                     f"({req['reason']}); the config has {req['got']!r}")
    options = ' '.join(
        f"{req['option']}={str(req['value']).replace(' ', '')}"
        for req in wrong)
    lines.append(f'Set it in the config or with --cfg-options {options}.')
    raise ConfigRequirementError('\n'.join(lines))


def save_converted(state_dict: Mapping,
                   dst: str,
                   source: str,
                   meta: Optional[Mapping] = None) -> None:
    """Write a converted state dict as an mmengine-style checkpoint.

    Saves ``dict(state_dict=..., meta=dict(converted_from=source, ...))``
    with the ``meta`` of a :class:`ConvertedState` and ``meta`` (only
    tensors and plain values, so it loads with ``weights_only=True``),
    atomically (a kill leaves no partial file), creating the folder; warns
    when the state dict holds no text encoder weights.

    Args:
        state_dict (Mapping): From a ``convert_<model>`` function.
        dst (str): Output path.
        source (str): What it was converted from (kept in ``meta``).
        meta (Mapping, optional): More ``meta`` entries (plain data, e.g.
            the reference's saved arguments); they win over the state
            dict's. Defaults to None.
    """
    if not any(k.startswith('text_encoder.') for k in state_dict):
        print_log(
            f'{source} holds no text encoder weights (neither '
            '"text_encoder.*" nor "bert_model", nor a separate BERT file); '
            'the text encoder keeps the weights of its config.',
            logger='current',
            level=logging.WARNING)
    meta = dict(getattr(state_dict, 'meta', {}), **dict(meta or {}))
    meta['converted_from'] = source
    folder = osp.dirname(osp.abspath(dst))
    checkpoint = dict(state_dict=dict(state_dict), meta=meta)
    os.makedirs(folder, exist_ok=True)
    write_atomically(
        folder, osp.basename(dst),
        lambda name: torch.save(checkpoint, osp.join(folder, name)))


def read_reference(path: str, unsafe_load: bool = False):
    """Read a reference checkpoint without running code from it.

    Weights, numbers and the ``argparse.Namespace`` that the reference
    ``train.py`` scripts save (:data:`mmrrsis.compat.REFERENCE_GLOBALS`);
    anything else needs ``unsafe_load`` (trusted files only).
    """
    return load_checkpoint_file(
        path,
        map_location='cpu',
        unsafe_load=unsafe_load,
        extra_safe_globals=REFERENCE_GLOBALS)


def convert_reference_checkpoint(convert: Callable,
                                 src: str,
                                 dst: str,
                                 bert: Optional[str] = None,
                                 unsafe_load: bool = False,
                                 reference_args: Optional[Mapping] = None
                                 ) -> int:
    """Read a reference checkpoint, convert it, write it for mmrrsis.

    Args:
        convert (callable): ``convert(checkpoint, bert_state,
            reference_args=...) -> state dict``, e.g.
            :func:`~mmrrsis.models.converters.convert_lavt` (a converter
            without ``reference_args`` is called without it).
        src (str): The reference checkpoint (path or URL).
        dst (str): Output path (see :func:`save_converted`).
        bert (str, optional): A separate BERT state dict (or a checkpoint
            holding ``bert_model``). Defaults to None.
        unsafe_load (bool): Unpickle the inputs completely (trusted files
            only). Defaults to False.
        reference_args (Mapping, optional): Reference arguments to assume
            (for a checkpoint that does not hold them; they win over the
            saved ones). Defaults to None.

    Returns:
        int: The number of tensors written.

    Raises:
        UnsafeCheckpointError: An input needs full unpickling.
        CorruptCheckpointError: An input is empty, truncated or damaged.
        KeyError: A key has no place in the mmrrsis layout.
        ValueError: A saved argument our model cannot express.
    """
    checkpoint = read_reference(src, unsafe_load)
    bert_state = None
    if bert:
        bert_state = read_reference(bert, unsafe_load)
        if isinstance(bert_state, dict) and 'bert_model' in bert_state:
            bert_state = bert_state['bert_model']
    if 'reference_args' in inspect.signature(convert).parameters:
        state_dict = convert(checkpoint, bert_state,
                             reference_args=reference_args)
    elif reference_args:
        raise ValueError(f'{convert.__name__} reads no reference arguments; '
                         'convert without --reference-args')
    else:
        state_dict = convert(checkpoint, bert_state)
    save_converted(state_dict, dst, src)
    return len(state_dict)


def parse_reference_args(items: Optional[List[str]]) -> Dict[str, str]:
    """``['mha=2-2-4-8', 'window12=true']`` as a dict of strings."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ValueError(f'--reference-args takes KEY=VALUE, got {item!r}')
        out[key] = value
    return out


def converter_cli(convert: Callable, reference: str, argv=None) -> None:
    """The command line of a converter tool: ``SRC DST [--bert FILE]
    [--reference-args KEY=VALUE ...] [--unsafe-load]``, then
    :func:`convert_reference_checkpoint`.

    A file that cannot be read safely, a damaged one, or a saved argument
    our model cannot express ends the program with ``error: ...`` (exit
    status 1).

    Args:
        convert (callable): The key mapping, e.g. ``convert_lavt``.
        reference (str): The reference implementation's name, for the help.
        argv (list[str], optional): Arguments. Defaults to None
            (``sys.argv``).
    """
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
    parser.add_argument(
        '--reference-args',
        nargs='+',
        metavar='KEY=VALUE',
        help=f'{reference} training arguments to assume, e.g. mha=2-2-4-8 '
        '(for a checkpoint that does not hold its args; they win over the '
        'saved ones)')
    add_unsafe_load_arg(parser, 'the inputs')
    args = parser.parse_args(argv)
    try:
        count = convert_reference_checkpoint(
            convert, args.src, args.dst, args.bert, args.unsafe_load,
            parse_reference_args(args.reference_args))
    except (OSError, ValueError, UnsafeCheckpointError,
            CorruptCheckpointError) as e:
        sys.exit(f'error: {e}')
    print(f'{count} tensors written to {args.dst}')


__all__ = [
    'ConfigRequirementError', 'ConvertedState', 'check_config_requirements',
    'convert_reference_checkpoint', 'converter_cli', 'parse_reference_args',
    'plain', 'read_reference', 'reference_args', 'requirement',
    'save_converted', 'strip_module'
]
