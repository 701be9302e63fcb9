"""Geometric transforms that keep the expression true."""
from typing import Iterable, Optional, Sequence, Union

from mmcv.transforms import RandomFlip

from mmrrsis.registry import TRANSFORMS

from ..text_utils import (
    HORIZONTAL_SWAPS,
    VERTICAL_SWAPS,
    build_swap_table,
    swap_words,
)


@TRANSFORMS.register_module()
class ReferringRandomFlip(RandomFlip):
    """Flip image and mask, and swap direction words in the expression.

    A mirrored image makes "the car on the left" refer to what is now on
    the right, so the words are exchanged with the flip: for a horizontal
    flip ``left`` <-> ``right`` (and ``leftmost``/``rightmost``,
    ``east``/``west``, ...), for a vertical flip ``top`` <-> ``bottom``,
    ``upper`` <-> ``lower``, ``north`` <-> ``south`` (...), for a diagonal
    flip both. Whole words only, case kept. Note that ``lower`` is always
    read as a position (``lower vegetation`` would become ``upper
    vegetation``); RefSegRS names that class ``low vegetation``.

    Flipping itself is mmcv's :class:`~mmcv.transforms.RandomFlip` (``prob``
    and ``direction`` as there).

    Required Keys:

    - img
    - gt_seg_map (optional)
    - text (str, optional)
    - texts (list[str], optional): sentences not chosen yet

    Modified Keys:

    - img
    - gt_seg_map (optional)
    - text, texts (optional)

    Added Keys:

    - flip (bool)
    - flip_direction (str | None)

    Args:
        prob (float | list[float]): Flip probability (per direction if a
            list). Defaults to 0.5.
        direction (str | list[str]): ``'horizontal'``, ``'vertical'``,
            ``'diagonal'`` or a list of them. Defaults to 'horizontal'.
        horizontal_swaps (Iterable[tuple[str, str]], optional): Word pairs
            exchanged by a horizontal flip. Defaults to None, which uses
            :data:`~mmrrsis.datasets.text_utils.HORIZONTAL_SWAPS`.
        vertical_swaps (Iterable[tuple[str, str]], optional): Word pairs
            exchanged by a vertical flip. Defaults to None, which uses
            :data:`~mmrrsis.datasets.text_utils.VERTICAL_SWAPS`.
    """

    def __init__(self,
    prob: Union[float, Iterable[float]] = 0.5,
    direction: Union[str, Sequence[str]] = 'horizontal',
    horizontal_swaps: Optional[Iterable[Sequence[str]]] = None,
                 vertical_swaps: Optional[Iterable[Sequence[str]]] = None
                 ) -> None:
        super().__init__(prob=prob, direction=direction)
        self.horizontal_swaps = tuple(
    tuple(p) for p in (HORIZONTAL_SWAPS if horizontal_swaps is None
                               else horizontal_swaps))
        self.vertical_swaps = tuple(
    tuple(p) for p in (VERTICAL_SWAPS if vertical_swaps is None
                               else vertical_swaps))
        h_table = build_swap_table(self.horizontal_swaps)
        v_table = build_swap_table(self.vertical_swaps)
        # a diagonal flip is both: 'upper left' -> 'lower right'; a compound
        # word present in both tables ('northeast') maps through both
        d_table = {**h_table, **v_table}
        for word in set(h_table) & set(v_table):
            d_table[word] = v_table.get(h_table[word], h_table[word])
        self._tables = dict(horizontal=h_table, vertical=v_table,
                            diagonal=d_table)

    def _flip(self, results: dict) -> None:
        """Flip image and mask (mmcv), then swap words of the text."""
        super()._flip(results)
        table = self._tables[results['flip_direction']]
        if isinstance(results.get('text'), str):
            results['text'] = swap_words(results['text'], table)
        if results.get('texts'):
            results['texts'] = [swap_words(t, table)
                                for t in results['texts']]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'direction={self.direction}, '
                f'horizontal_swaps={self.horizontal_swaps}, '
                f'vertical_swaps={self.vertical_swaps})')
