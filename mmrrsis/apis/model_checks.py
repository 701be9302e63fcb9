"""Checks that a built model can take referring expressions."""
import torch.nn as nn

from mmrrsis.models.text_encoders import BaseTextEncoder


def has_text_encoder(model: nn.Module) -> bool:
    """Whether ``model`` encodes expressions.

    Args:
        model (nn.Module): A segmentor.

    Returns:
        bool: True if one of its modules is a
        :class:`~mmrrsis.models.text_encoders.BaseTextEncoder`.
    """
    return any(isinstance(m, BaseTextEncoder) for m in model.modules())


def check_text_model(model: nn.Module, config_name: str = 'the config'):
    """Raise if ``model`` cannot take referring expressions.

    Args:
        model (nn.Module): The built segmentor.
        config_name (str): How to name its config in the message.
            Defaults to 'the config'.

    Raises:
        ValueError: The model has no text encoder.
    """
    if not has_text_encoder(model):
        raise ValueError(
            f'{config_name} builds a {type(model).__name__} without a text '
            'encoder, so it cannot take referring expressions. Use an '
            'mmrrsis config whose model has one (e.g. configs/lavt_swin-b.py:'
            " RRSISEncoderDecoder with text_encoder=dict(type="
            "'BertTextEncoder', ...)).")
