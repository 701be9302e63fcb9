"""The interface every text encoder of mmrrsis implements, and the
helpers that find text encoders in a model config."""
import copy
import logging
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmrrsis.models.utils import TextFeatures
from mmrrsis.utils.config_utils import iter_dicts

#: What ``offline_cfg`` builds for.
PURPOSES = ('checkpoint', 'random')


class TokenizerUnavailableError(RuntimeError):
    """A text encoder's tokenizer cannot be built from local files."""


@dataclass
class ExpressionTokenizer:
    """How a text encoder turns an expression into token ids, without the
    encoder (what the dataset doctor and the tools count with).

    Attributes:
        encode (callable): ``encode(text) -> list[int]``: the ids with the
            encoder's special tokens (e.g. ``[CLS]`` / ``[SEP]``), before
            the token limit cuts them.
        max_tokens (int): The encoder's token limit (special tokens
            included).
        unk_id (int, optional): Id of the unknown token, None if the
            tokenizer has none.
        description (str): Where the tokenizer comes from, for reports.
    """
    encode: Callable[[str], List[int]]
    max_tokens: int
    unk_id: Optional[int]
    description: str


class BaseTextEncoder(BaseModule, metaclass=ABCMeta):
    """Raw referring expressions in, one :class:`TextFeatures` out.

    The encoder owns everything between a string and its features: the
    tokenizer, the token limit, the truncation rule and the padding. So
    the pipeline, the data samples and the inference API carry plain
    strings, and the segmentor calls::

        text = text_encoder(texts)       # list[str] of length B
        text.words   (B, L, out_channels)
        text.mask    (B, L), 1 for real tokens
        text.sentence (B, out_channels) or None

    Subclasses set :attr:`out_channels` (C_t, the width the fusion and
    neck configs name as ``text_channels``) and implement
    :meth:`forward`.

    An encoder that needs more of an expression than its string (e.g.
    FIANet's object-word and spatial-phrase positions, which a pipeline
    transform finds with NLTK) lists the data samples' metainfo keys it
    reads in :attr:`meta_keys`; the segmentor then calls
    ``text_encoder(texts, **{key: [meta[key] for each sample]})``, one
    value per expression, in the order of ``texts``. A key a sample lacks
    arrives as None; the encoder says which transform makes it.

    An encoder also owns its setup, as class methods on its config node
    (so nothing outside the encoder knows how it is built):
    :meth:`offline_cfg` (a copy of the node that builds without network
    access, for loading a checkpoint or for counting) and
    :meth:`build_tokenizer` (the tokenizer alone, from local files). An
    encoder that never downloads anything and has no tokenizer keeps the
    defaults of this class.
    """

    #: width C_t of ``TextFeatures.words``
    out_channels: int
    #: metainfo keys, besides ``'text'``, that :meth:`forward` takes
    meta_keys: Tuple[str, ...] = ()

    @classmethod
    def offline_cfg(cls, cfg: dict, purpose: str = 'random') -> dict:
        """A copy of this encoder's config node that builds with no
        network access.

        Args:
            cfg (dict): The encoder's config node (``type`` included).
            purpose (str): ``'checkpoint'``: the weights will come from a
                checkpoint, so build the same architecture as the
                pretrained model the node names (read from local files),
                load no pretrained weights, and take the real tokenizer
                from local files; what is not available locally is a
                clear error naming the config option to set.
                ``'random'``: for counting and benchmarking, the
                full-size architecture with random weights; the tokenizer
                from local files when present, else a packaged stand-in
                vocabulary (said in the log). Defaults to 'random'.

        Returns:
            dict: A new config node; ``cfg`` is not changed. The base
            class returns a plain copy (an encoder that needs no
            download).
        """
        check_purpose(purpose)
        return copy.deepcopy(cfg)

    @classmethod
    def build_tokenizer(cls, cfg: dict) -> ExpressionTokenizer:
        """The tokenizer alone, from local files (no weights, no network).

        Args:
            cfg (dict): The encoder's config node.

        Returns:
            ExpressionTokenizer: How expressions are tokenised.

        Raises:
            TokenizerUnavailableError: It would need a download, or the
                encoder has no tokenizer to build alone (the default).
        """
        raise TokenizerUnavailableError(
            f'{cls.__name__} does not build its tokenizer without the '
            'encoder (it implements no build_tokenizer)')

    @abstractmethod
    def forward(self, texts: Union[str, List[str]], **meta) -> TextFeatures:
        """Encode a batch of expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.
            **meta: For each key of :attr:`meta_keys`, a list of B values
                (the samples' metainfo).

        Returns:
            TextFeatures: The batch's word features, mask and (optional)
            sentence vectors.
        """


class ExpressionLog:
    """Count expressions that an encoder had to change or could not read,
    and say so without a line per batch.

    Each kind of event (e.g. ``'truncated'``) is logged as a warning at
    its first occurrence, with the expression, and then again, as a
    running count, when its count reaches 10, 100, 1000, ... So a
    training run over any number of batches prints at most a few lines
    per kind, and every line carries the count so far; :attr:`counts`
    holds the exact numbers (also ``'seen'``, all expressions encoded).

    Args:
        owner (str): Name used in the messages. Defaults to
            ``'text encoder'``.
    """

    def __init__(self, owner: str = 'text encoder') -> None:
        self.owner = owner
        self.counts: Dict[str, int] = dict(seen=0)

    def seen(self, num: int) -> None:
        """Add ``num`` encoded expressions to the total."""
        self.counts['seen'] += num

    def add(self, kind: str, first_message: str, summary: str) -> None:
        """Count one event of ``kind`` and log it if it is a milestone.

        Args:
            kind (str): Event name, a key of :attr:`counts`.
            first_message (str): Said at the first occurrence.
            summary (str): Said at the 10th, 100th, ... occurrence after
                ``'{count} of {seen} expressions so far'``.
        """
        count = self.counts.get(kind, 0) + 1
        self.counts[kind] = count
        if count == 1:
            message = (f'{self.owner}: {first_message} (said once; further '
                       'cases are counted and reported at 10, 100, 1000, '
                       '... cases)')
        elif str(count).strip('0') == '1':
            message = (f'{self.owner}: {count} of {self.counts["seen"]} '
                       f'expressions so far {summary}')
        else:
            return
        print_log(message, logger='current', level=logging.WARNING)


def check_purpose(purpose: str) -> None:
    """Raise unless ``purpose`` is one of :data:`PURPOSES`."""
    if purpose not in PURPOSES:
        raise ValueError(f'purpose must be one of {PURPOSES}, got '
                         f'{purpose!r}')


def text_encoder_class(node: dict) -> Optional[type]:
    """The :class:`BaseTextEncoder` subclass a config node builds, if any.

    The node's ``type`` (a registry name, with or without scope, or a
    class) is resolved through the ``MODELS`` registry.
    """
    from mmrrsis.registry import MODELS
    kind = node.get('type')
    if isinstance(kind, str):
        try:
            kind = MODELS.get(kind)
        except KeyError:
            kind = None
    if isinstance(kind, type) and issubclass(kind, BaseTextEncoder):
        return kind
    return None


def iter_text_encoder_cfgs(model_cfg) -> Iterator[Tuple[dict, type]]:
    """Every text encoder config node of a model config.

    Args:
        model_cfg (dict): E.g. ``cfg.model``.

    Yields:
        tuple[dict, type]: The node (edits change the config) and the
        :class:`BaseTextEncoder` subclass its ``type`` resolves to through
        the ``MODELS`` registry.
    """
    for node in iter_dicts(model_cfg):
        cls = text_encoder_class(node)
        if cls is not None:
            yield node, cls


__all__ = [
    'BaseTextEncoder', 'ExpressionLog', 'ExpressionTokenizer', 'PURPOSES',
    'TokenizerUnavailableError', 'iter_text_encoder_cfgs',
    'text_encoder_class'
]
