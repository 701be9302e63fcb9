"""BERT on a whole expression and again on each of its phrases (FIANet)."""
from contextlib import nullcontext
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor

from mmrrsis.models.utils import TextFeatures
from mmrrsis.registry import MODELS

from .bert_text_encoder import BertTextEncoder

#: The additive attention mask of the reference's BERT for masked tokens.
MASKED_SCORE = -10000.


@MODELS.register_module()
class PhraseBertTextEncoder(BertTextEncoder):
    """FIANet's text encoder: BERT run on the same token ids three times,
    with the expression's mask, its object words' mask and its spatial
    phrase's mask.

    The positions of the object words and of the spatial phrases come
    from the pipeline (:class:`~mmrrsis.datasets.transforms.
    ObjectPositionPhrases`, which finds them with NLTK) in each data
    sample's ``metainfo['phrase_tokens']`` (``meta_keys``): a dict with
    ``object`` (positions, possibly none) and ``position`` (positions, or
    None for "no spatial phrase": the expression's own mask, as in the
    reference). Positions count ``[CLS]`` as 0 and are set on the padded
    ids as they are (the reference's rule: a position past the padded
    length ``L`` is dropped, one on padding attends to the padding).

    Returns the full pass as ``words`` / ``mask`` and the two others as
    ``phrases['object']`` and ``phrases['position']`` (their masks are
    the phrase masks). The three passes run as one BERT batch of 3B rows
    (the same function; in training each row has its own dropout).

    Masked tokens get -10^4 added to their attention scores, as in the
    BERT that FIANet ships, not the dtype's minimum of HuggingFace's own
    masks: for a row with at least one token both are the same, but an
    expression without an object word has an all-zero object mask, and
    with -10^4 on every score that row attends to all 20 tokens as if it
    were unmasked, while the dtype's minimum gives uniform attention (and
    a boolean mask in scaled-dot-product attention gives NaN). The
    fusion then masks all of those words out anyway; the features are
    still those of the reference.

    Args:
        **kwargs: Arguments of :class:`BertTextEncoder`.
    """

    meta_keys = ('phrase_tokens', )
    #: The passes after the full one, in ``TextFeatures.phrases``.
    phrase_names = ('object', 'position')

    def phrase_masks(self, phrase_tokens: Sequence[Optional[dict]],
                     attention_mask: Tensor, texts: List[str]) -> List[Tensor]:
        """The masks of the phrase passes.

        Args:
            phrase_tokens (Sequence[dict]): One ``phrase_tokens`` per
                expression.
            attention_mask (Tensor): (B, L) of the full pass.
            texts (list[str]): The expressions, for messages.

        Returns:
            list[Tensor]: One (B, L) long mask per name of
            :attr:`phrase_names`.

        Raises:
            ValueError: An expression has no ``phrase_tokens`` (the
                message names it and the transform that makes them).
        """
        B, L = attention_mask.shape
        masks = [torch.zeros_like(attention_mask) for _ in self.phrase_names]
        for b, (tokens, text) in enumerate(zip(phrase_tokens, texts)):
            if not isinstance(tokens, dict) or any(
                    name not in tokens for name in self.phrase_names):
                raise ValueError(
                    f'{type(self).__name__}: the expression "{text}" has no '
                    'phrase_tokens (object / position positions; got '
                    f'{tokens!r}). Put dict(type="ObjectPositionPhrases") '
                    'in the pipeline after the text transforms and keep '
                    '"phrase_tokens" in PackRRSISInputs\' meta_keys; a caller '
                    'of the segmentor\'s encode_text passes the samples\' '
                    'metainfo.')
            for mask, name in zip(masks, self.phrase_names):
                positions = tokens[name]
                if positions is None:
                    mask[b] = attention_mask[b]
                    continue
                kept = [int(p) for p in positions if 0 <= int(p) < L]
                mask[b, kept] = 1
        return masks

    def bert_hidden(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """BERT's last hidden layer with the reference's additive mask.

        Args:
            input_ids (Tensor): (N, L) token ids.
            attention_mask (Tensor): (N, L), 1 for attended tokens; a row
                may be all zeros.

        Returns:
            Tensor: (N, L, C_t).
        """
        frozen = not any(p.requires_grad for p in self.bert.parameters())
        with torch.no_grad() if frozen else nullcontext():
            embedded = self.bert.embeddings(input_ids=input_ids)
            masked = 1. - attention_mask.to(embedded.dtype)
            additive = masked[:, None, None, :] * MASKED_SCORE
            return self.bert.encoder(
                embedded, attention_mask=additive).last_hidden_state

    def forward(self,
                texts: Union[str, List[str]],
                phrase_tokens: Optional[Sequence[Optional[dict]]] = None
                ) -> TextFeatures:
        """Encode expressions and their object words and spatial phrases.

        Args:
            texts (str | list[str]): One expression or B expressions.
            phrase_tokens (Sequence[dict], optional): B ``phrase_tokens``
                (see the class docstring). Required; None raises naming
                the transform that makes them.

        Returns:
            TextFeatures: ``words`` (B, L, C_t) and ``mask`` (B, L) of the
            whole expressions (``sentence`` as :class:`BertTextEncoder`),
            ``phrases`` with the ``'object'`` and ``'position'`` records.
        """
        if isinstance(texts, str):
            texts = [texts]
            if isinstance(phrase_tokens, dict):
                phrase_tokens = [phrase_tokens]
        if len(texts) == 0:
            raise ValueError(f'{type(self).__name__} got no texts.')
        if phrase_tokens is None:
            phrase_tokens = [None] * len(texts)
        if len(phrase_tokens) != len(texts):
            raise ValueError(
                f'{type(self).__name__} got {len(texts)} expressions but '
                f'{len(phrase_tokens)} phrase_tokens.')
        input_ids, attention_mask = self.tokenize(texts)
        masks = [attention_mask] + self.phrase_masks(
            phrase_tokens, attention_mask, texts)
        B = len(texts)
        hidden = self.bert_hidden(input_ids.repeat(len(masks), 1),
                                  torch.cat(masks)).split(B)
        phrases = {
            name: TextFeatures(words, mask.to(words.dtype))
            for name, words, mask in zip(self.phrase_names, hidden[1:],
                                         masks[1:])
        }
        return self.features(hidden[0], attention_mask, input_ids)._replace(
            phrases=phrases)
