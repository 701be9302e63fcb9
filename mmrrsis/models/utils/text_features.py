"""The text record passed between referring components, and the marker of
the components that take it.

Contract (see ``docs/add_a_model.md``):

- a text encoder (:class:`~mmrrsis.models.text_encoders.BaseTextEncoder`)
  takes the raw expressions of a batch and returns one
  :class:`TextFeatures`; it owns tokenisation and padding;
- the segmentor encodes the text once per batch and passes the same
  record to every component that subclasses :class:`TextConditioned`:
  ``backbone(inputs, text)``, ``neck(feats, text)``,
  ``decode_head.forward(feats, text)``; the others get no text;
- a component needing one vector per expression calls
  :meth:`TextFeatures.pool` (or :func:`pool_words`) and never averages the
  word features itself.
"""
import dataclasses
from typing import Dict, Iterator, Optional, Sequence

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmrrsis.utils import OptMultiConfig

POOLINGS = ('masked_mean', 'mean', 'encoder')


def pool_words(words: Tensor, mask: Tensor,
               pooling: str = 'masked_mean') -> Tensor:
    """One vector per expression from its word features.

    Args:
        words (Tensor): (B, L, C) word features.
        mask (Tensor): (B, L), 1 for real tokens, 0 for padding.
        pooling (str): ``'masked_mean'`` averages the real tokens only
            (padding excluded); ``'mean'`` averages all L positions,
            padding included (what the public LGCE re-implementation
            does, so the result depends on the padded length). Defaults to
            ``'masked_mean'``.

    Returns:
        Tensor: (B, C) sentence vectors.
    """
    if pooling == 'mean':
        return words.mean(dim=1)
    if pooling != 'masked_mean':
        raise ValueError(f'pooling must be "masked_mean" or "mean", got '
                         f'"{pooling}".')
    weights = mask.to(words.dtype).unsqueeze(-1)
    return (words * weights).sum(1) / weights.sum(1).clamp(min=1.)


@dataclasses.dataclass(frozen=True)
class TextFeatures:
    """What a text encoder returns for a batch of B expressions.

    A frozen record. It unpacks as ``words, mask, sentence`` (what it did
    as a ``NamedTuple`` before it had ``phrases``, which are read by name
    only) and ``_replace(**fields)`` makes a changed copy.

    Attributes:
        words (Tensor): (B, L, C_t) one feature per token, [CLS]/[SEP]
            included; features at padded positions are whatever the
            encoder computed there, so consumers must use ``mask``.
        mask (Tensor): (B, L) float, 1 for real tokens, 0 for padding.
            L is the encoder's padded length (e.g. LAVT's 20).
        sentence (Tensor, optional): (B, C_t) the encoder's own sentence
            vector, or None when it has none (BERT's pooler is not used
            by LAVT/RMSIN). Defaults to None.
        phrases (dict[str, TextFeatures], optional): Records of parts of
            the expression, by name, each with ``words`` (B, L, C_t) and
            ``mask`` (B, L) on the same L positions as the whole
            expression, from an encoder that encodes parts separately
            (FIANet's ``'object'`` and ``'position'`` passes of
            :class:`~mmrrsis.models.text_encoders.PhraseBertTextEncoder`).
            A part's mask may be all zeros (no such phrase in the
            expression). None when the encoder has no parts. Defaults to
            None.
        graph (Tensor, optional): (B, L, L) float weights between the L
            positions of ``words``, from an encoder that builds a graph
            over the words (LSCM's
            :class:`~mmrrsis.models.text_encoders.LSTMTextEncoder` with
            ``use_parse``: 1 between a word and its head in the dependency
            parse, a small weight between other words, 0 at padding).
            None otherwise. Defaults to None.
        special (Tensor, optional): (B, L) bool, True at the encoder's
            special tokens (BERT: ``[CLS]``, ``[SEP]``), for components
            that weigh only the words of the expression (DiCoR's
            localization guide). None when the encoder does not say.
            Defaults to None.
    """

    words: Tensor
    mask: Tensor
    sentence: Optional[Tensor] = None
    phrases: Optional[Dict[str, 'TextFeatures']] = None
    graph: Optional[Tensor] = None
    special: Optional[Tensor] = None

    def __post_init__(self) -> None:
        if self.graph is not None and tuple(self.graph.shape) != (
                *self.mask.shape, self.mask.shape[1]):
            raise ValueError(
                'TextFeatures.graph must be (B, L, L) for mask '
                f'{tuple(self.mask.shape)}, got {tuple(self.graph.shape)}.')

    def __iter__(self) -> Iterator[Optional[Tensor]]:
        """``words, mask, sentence``."""
        return iter((self.words, self.mask, self.sentence))

    def _replace(self, **fields) -> 'TextFeatures':
        """A copy with ``fields`` changed."""
        return dataclasses.replace(self, **fields)

    def pool(self, pooling: str = 'masked_mean') -> Tensor:
        """The sentence vector a component asks for.

        Args:
            pooling (str): ``'masked_mean'`` or ``'mean'`` (see
                :func:`pool_words`), or ``'encoder'`` for :attr:`sentence`.
                Defaults to ``'masked_mean'``.

        Returns:
            Tensor: (B, C_t) sentence vectors.
        """
        if pooling == 'encoder':
            if self.sentence is None:
                raise ValueError(
                    'pooling="encoder" needs a text encoder that returns a '
                    'sentence vector (TextFeatures.sentence is None).')
            return self.sentence
        return pool_words(self.words, self.mask, pooling)

    def rows(self, index) -> 'TextFeatures':
        """The record of some of the expressions.

        Args:
            index (slice | Tensor | Sequence[int]): Which of the B
                expressions, e.g. ``slice(2, 4)``.

        Returns:
            TextFeatures: ``words``, ``mask`` (and ``sentence``,
            ``phrases``, ``graph`` and ``special`` when there are)
            restricted to those
            rows.
        """
        phrases = None if self.phrases is None else {
            name: part.rows(index)
            for name, part in self.phrases.items()
        }
        return TextFeatures(
            self.words[index], self.mask[index],
            None if self.sentence is None else self.sentence[index], phrases,
            graph=None if self.graph is None else self.graph[index],
            special=None if self.special is None else self.special[index])

    def phrase(self, name: str, owner: str) -> 'TextFeatures':
        """The record of the part ``name``, or an error naming ``owner``.

        Args:
            name (str): A key of :attr:`phrases`, e.g. ``'object'``.
            owner (str): The component that needs it (for the message).

        Returns:
            TextFeatures: ``words`` (B, L, C_t) and ``mask`` (B, L).

        Raises:
            KeyError: The encoder produced no such part.
        """
        if not self.phrases or name not in self.phrases:
            have = sorted(self.phrases or {})
            raise KeyError(
                f'{owner} needs the text record\'s phrase "{name}", but the '
                f'text encoder gave {have or "none"}: use a text encoder '
                'that encodes it (e.g. PhraseBertTextEncoder with the '
                'ObjectPositionPhrases transform in the pipeline).')
        return self.phrases[name]


class TextConditioned:
    """Marker of a component that takes the :class:`TextFeatures` record.

    The segmentor passes the record to a backbone, neck or decode head
    exactly when it subclasses this class; how each family takes it:

    ========================  =========================================
    family                    call
    ========================  =========================================
    backbone                  ``backbone(inputs, text) -> list[Tensor]``
    neck                      ``neck(feats, text) -> list[Tensor]``
    decode head               ``head.forward(feats, text) -> Tensor``
    ========================  =========================================
    """


class MultiScaleTextModule(BaseModule):
    """Base of the modules that combine per-scale maps with word features
    (fusions, text-aware necks): it records their widths.

    Args:
        in_channels (Sequence[int]): Width C_i of each scale.
        text_channels (int): Width C_t of ``TextFeatures.words``.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 text_channels: int,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.text_channels = text_channels


def takes_text(module: nn.Module) -> bool:
    """Whether the segmentor passes the text record to ``module``."""
    return isinstance(module, TextConditioned)


__all__ = [
    'POOLINGS', 'MultiScaleTextModule', 'TextConditioned', 'TextFeatures',
    'pool_words', 'takes_text'
]
