"""The interface every text encoder of mmrrsis implements."""
import logging
from abc import ABCMeta, abstractmethod
from typing import Dict, List, Tuple, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmrrsis.models.utils import TextFeatures


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

    An encoder that needs more of a sample than its string (LSCM's word
    graph needs the dependency parse the data pipeline attaches) names
    those metainfo keys in :attr:`meta_keys`; the segmentor then calls
    ``text_encoder(texts, key=[one value per sample], ...)``.
    """

    #: width C_t of ``TextFeatures.words``
    out_channels: int

    #: metainfo keys passed to :meth:`forward` as keyword arguments (one
    #: list per key, a value per sample); empty for string-only encoders
    meta_keys: Tuple[str, ...] = ()

    @abstractmethod
    def forward(self, texts: Union[str, List[str]]) -> TextFeatures:
        """Encode a batch of expressions.

        Args:
            texts (str | list[str]): One expression or B expressions.

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


__all__ = ['BaseTextEncoder', 'ExpressionLog']
