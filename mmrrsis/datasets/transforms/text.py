"""Transforms of the referring expression (strings stay strings)."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmrrsis.registry import TRANSFORMS

from ..text_utils import normalize_text
from .loading import describe_sample


class TextTransform(BaseTransform):
    """Base of the transforms that read and change only the expression
    (``text`` / ``texts`` and the sentence ids), never the image.

    Inference runs just these on an expression
    (:meth:`mmrrsis.apis.InferencePipeline.clean_text`), once per
    expression, without an image.
    """


@TRANSFORMS.register_module()
class CleanText(TextTransform):
    """Normalise the expression and reject empty ones.

    NFKC unicode normalisation, zero-width and control characters removed,
    whitespace collapsed to single spaces and stripped (see
    :func:`mmrrsis.datasets.text_utils.normalize_text`); lower-casing only
    when asked (the tokenizer of an uncased model does it anyway).

    Required Keys:

    - text (str)

    Modified Keys:

    - text

    Args:
        lower (bool): Lower-case the text. Defaults to False.

    Raises:
        KeyError: The sample has no ``text`` (a refer dataset in
            ``text_mode='random'`` needs :class:`RandomSentence` first).
        ValueError: The expression is empty after cleaning; the message
            names the sample.
    """

    def __init__(self, lower: bool = False) -> None:
        self.lower = lower

    def transform(self, results: dict) -> dict:
        """Clean ``results['text']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with the cleaned text.
        """
        text = results.get('text')
        if text is None:
            hint = (' (it has several sentences in "texts": put '
                    'RandomSentence before CleanText)'
                    if results.get('texts') else '')
            raise KeyError(f'{describe_sample(results)} has no "text"{hint}')
        if not isinstance(text, str):
            raise TypeError(f'The text of {describe_sample(results)} must be '
                            f'a str, got {type(text).__name__}')
        text = normalize_text(text, lower=self.lower)
        if not text:
            raise ValueError(
                f'Empty referring expression in {describe_sample(results)}')
        results['text'] = text
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(lower={self.lower})'


@TRANSFORMS.register_module()
class RandomSentence(TextTransform):
    """Pick one of a reference's sentences at random.

    Training on a refer dataset in ``text_mode='random'`` (as LAVT does):
    one sample per reference and epoch, with a sentence drawn each time the
    sample is loaded. A sample that already has a ``text`` and no
    ``texts`` passes unchanged.

    Required Keys:

    - texts (list[str])
    - sent_ids (list, optional): the sentence ids, parallel to ``texts``

    Modified Keys:

    - text (str): the chosen sentence
    - sent_id: the chosen sentence's id (its index if there are no ids)

    Args:
        seed (int, optional): Seed of the transform's own generator; None
            draws from numpy's global generator, which mmengine seeds per
            worker. Defaults to None.
    """

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def transform(self, results: dict) -> dict:
        """Choose ``results['text']`` from ``results['texts']``.

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample with ``text`` and ``sent_id`` set.
        """
        texts = results.get('texts')
        if not texts:
            if results.get('text') is None:
                raise KeyError(
                    f'{describe_sample(results)} has neither "texts" nor '
                    '"text"')
            return results
        if self._rng is not None:
            index = int(self._rng.integers(len(texts)))
        else:
            index = int(np.random.randint(len(texts)))
        results['text'] = texts[index]
        sent_ids = results.get('sent_ids')
        results['sent_id'] = sent_ids[index] if sent_ids else index
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(seed={self.seed})'
