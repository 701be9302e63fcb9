"""Load a config and prepare its model for loading a checkpoint.

When a checkpoint is given, every pretrained weight the config would load
first is wasted (the checkpoint overwrites it) and, for BERT, means a
download of hundreds of MB. :func:`prepare_for_checkpoint` turns those
off: ``Pretrained`` init configs are dropped, and a ``BertTextEncoder``
that names ``pretrained=NAME`` is built from NAME's configuration
(``bert_config``, from a local folder's ``config.json`` or the HF cache;
at most the small ``config.json`` is fetched) instead of its weights. The
tokenizer still comes from NAME (its vocabulary files) unless ``vocab`` is
set.
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config, ConfigDict

from mmrrsis.utils.config_utils import iter_dicts, type_name

TEXT_ENCODERS = ('BertTextEncoder', 'PhraseBertTextEncoder')


def load_config(config: Union[str, Path, Config, dict],
                cfg_options: Optional[dict] = None) -> Config:
    """A copy of ``config`` (a file or an object), with overrides merged.

    Args:
        config (str | Path | Config | dict): Config file or object.
        cfg_options (dict, optional): Overrides, ``{'a.b': value}``.
            Defaults to None.

    Returns:
        Config: A new config; ``config`` itself is not changed.

    Raises:
        FileNotFoundError: A config file that does not exist.
        TypeError: Neither a file name nor a config.
        ValueError: The config has no ``model``.
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(f'Config file not found: {config}')
        config = Config.fromfile(str(config))
    elif isinstance(config, (Config, ConfigDict, dict)):
        config = copy.deepcopy(config)
        if not isinstance(config, Config):
            config = Config(dict(config))
    else:
        raise TypeError('config must be a file name or a Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if config.get('model') is None:
        raise ValueError('The config has no `model`.')
    return config


def drop_pretrained_init(model_cfg: dict) -> None:
    """Turn off ``init_cfg=dict(type='Pretrained', ...)`` everywhere in
    ``model_cfg`` (in place), and the model's own ``pretrained``."""
    if isinstance(model_cfg, dict):
        model_cfg.pop('pretrained', None)
    for node in iter_dicts(model_cfg):
        init_cfg = node.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            node['init_cfg'] = None


def bert_config_of(pretrained: str) -> dict:
    """The configuration of a pretrained BERT, without its weights.

    Args:
        pretrained (str): A local folder with ``config.json`` or a
            HuggingFace model name (read from the HF cache; with network
            access only its ``config.json`` is fetched).

    Returns:
        dict: Keyword arguments of ``transformers.BertConfig`` (the values
        that differ from its defaults).

    Raises:
        OSError: The configuration is not available (names what to do).
    """
    from transformers import BertConfig

    if osp.isdir(pretrained) and not osp.isfile(
            osp.join(pretrained, 'config.json')):
        raise FileNotFoundError(
            f'{pretrained} has no config.json, needed to build BERT for the '
            'checkpoint\'s weights.')
    try:
        config = BertConfig.from_pretrained(pretrained)
    except OSError as e:
        raise OSError(
            f'A checkpoint is given, so BERT is built from the configuration '
            f'of "{pretrained}" and takes the checkpoint\'s weights (none '
            f'are downloaded), but that configuration is not available '
            f'here ({e.__class__.__name__}). Point '
            'model.text_encoder.pretrained at a local folder with its '
            'config.json and tokenizer files (vocab.txt; the weights are not '
            'needed), or set model.text_encoder.bert_config.') from e
    values = config.to_diff_dict()
    values.pop('transformers_version', None)
    return values


def prepare_for_checkpoint(model_cfg: dict) -> None:
    """Build nothing pretrained that a checkpoint would overwrite.

    In place: drops ``Pretrained`` init configs (:func:`drop_pretrained_init`)
    and gives every text encoder with ``pretrained=NAME`` and no
    ``bert_config`` the configuration of NAME (:func:`bert_config_of`), so it
    is built with random weights that the checkpoint then replaces. The
    tokenizer keeps coming from NAME unless ``vocab`` is set.

    Args:
        model_cfg (dict): ``cfg.model``.
    """
    drop_pretrained_init(model_cfg)
    for node in iter_dicts(model_cfg):
        if type_name(node) not in TEXT_ENCODERS:
            continue
        pretrained = node.get('pretrained', 'bert-base-uncased')
        if node.get('bert_config') is None and pretrained:
            node['bert_config'] = bert_config_of(str(pretrained))
            node['pretrained'] = pretrained
