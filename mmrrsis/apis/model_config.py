"""Load a config and prepare its model for loading a checkpoint.

When a checkpoint is given, every pretrained weight the config would load
first is wasted (the checkpoint overwrites it) and, for a text encoder,
means a download of hundreds of MB. :func:`prepare_for_checkpoint` turns
those off: ``Pretrained`` init configs are dropped, and every text encoder
node is replaced by its own ``offline_cfg(node, 'checkpoint')`` (for BERT:
the architecture of ``pretrained`` and its tokenizer, from local files).
:func:`make_offline` does the same for counting and benchmarks
(``'random'``).
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config, ConfigDict

from mmrrsis.utils.config_utils import iter_dicts


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


def make_offline(model_cfg: dict, purpose: str = 'random') -> None:
    """Let ``model_cfg`` build with no network access, in place.

    Drops ``Pretrained`` init configs (:func:`drop_pretrained_init`) and
    replaces every text encoder node by its own
    :meth:`~mmrrsis.models.text_encoders.BaseTextEncoder.offline_cfg`
    (found with
    :func:`~mmrrsis.models.text_encoders.iter_text_encoder_cfgs`): the
    encoder knows how it builds offline, nothing here does.

    Args:
        model_cfg (dict): ``cfg.model``.
        purpose (str): ``'checkpoint'`` (weights from a checkpoint: the
            pretrained architecture and tokenizer from local files, an
            error naming the option to set otherwise) or ``'random'``
            (counting and benchmarks). Defaults to 'random'.
    """
    from mmrrsis.models.text_encoders import iter_text_encoder_cfgs
    drop_pretrained_init(model_cfg)
    for node, cls in list(iter_text_encoder_cfgs(model_cfg)):
        offline = cls.offline_cfg(node, purpose)
        node.clear()
        node.update(offline)


def prepare_for_checkpoint(model_cfg: dict) -> None:
    """Build nothing pretrained that a checkpoint would overwrite (in
    place): :func:`make_offline` with ``purpose='checkpoint'``.

    Args:
        model_cfg (dict): ``cfg.model``.
    """
    make_offline(model_cfg, 'checkpoint')
