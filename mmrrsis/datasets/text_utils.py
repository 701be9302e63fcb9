"""Text helpers shared by the datasets, the text transforms and the tools.

- :func:`normalize_text`: unicode and whitespace normalisation of an
  expression (what :class:`~mmrrsis.datasets.transforms.CleanText` applies);
- :func:`find_category`: the category an expression names, from a list of
  class names (RefSegRS' by default), so metrics can report per category;
- :func:`swap_words`: exchange direction words (``left`` <-> ``right``) as a
  flip of the image requires.
"""
import functools
import re
import unicodedata
from typing import Dict, Iterable, Optional, Sequence, Tuple

#: Target classes of RefSegRS (SkyScapes), as written in its expressions.
REFSEGRS_CATEGORIES = ('road', 'vehicle', 'car', 'van', 'building', 'truck',
                       'trailer', 'bus', 'road marking', 'bikeway',
                       'sidewalk', 'tree', 'low vegetation',
                       'impervious surface')
#: Target classes of RRSIS-D (DIOR's 20), as FIANet's loader lists them.
RRSISD_CATEGORIES = ('airplane', 'airport', 'golf field',
                     'expressway service area', 'baseball field', 'stadium',
                     'ground track field', 'storage tank', 'basketball court',
                     'chimney', 'tennis court', 'overpass', 'train station',
                     'ship', 'expressway toll station', 'dam', 'harbor',
                     'bridge', 'vehicle', 'windmill')

# zero-width characters and the byte order mark: invisible, not whitespace
# for str.split(), and never part of a word
_INVISIBLE = dict.fromkeys(map(ord, '\u200b\u200c\u200d\u2060\ufeff'), ' ')


def normalize_text(text: str, lower: bool = False) -> str:
    """Normalise unicode and whitespace of an expression.

    Applies NFKC normalisation (full-width letters, ligatures and
    non-breaking spaces become their plain forms), replaces zero-width and
    control characters by spaces, and collapses every run of whitespace into
    one space, without leading or trailing space.

    Args:
        text (str): The raw expression.
        lower (bool): Also lower-case the text. Defaults to False.

    Returns:
        str: The normalised text, possibly empty.
    """
    text = unicodedata.normalize('NFKC', text).translate(_INVISIBLE)
    text = ''.join(' ' if unicodedata.category(ch).startswith('C') else ch
                   for ch in text)
    text = ' '.join(text.split())
    return text.lower() if lower else text


def _plural_pattern(name: str) -> str:
    """Regex of a class name, its last word optionally in plural."""
    words = [re.escape(w) for w in name.lower().split()]
    words[-1] += '(?:s|es)?'
    return r'\s+'.join(words)


@functools.lru_cache(maxsize=32)
def _category_pattern(categories: Tuple[str, ...]):
    """Compiled matcher of class names and the names by group index."""
    # longest names first: at a position where several names start, the
    # alternation then takes the longest one
    names = sorted(set(categories), key=lambda n: (-len(n), n))
    if not names:
        return None
    pattern = re.compile(
        r'\b(?:' + '|'.join(f'(?P<c{i}>{_plural_pattern(n)})'
                            for i, n in enumerate(names)) + r')\b',
        re.IGNORECASE)
    return pattern, names


def find_category(text: str,
                  categories: Sequence[str] = REFSEGRS_CATEGORIES
                  ) -> Optional[str]:
    """Find the category an expression refers to.

    Class names are matched as whole words, case-insensitively, with the
    last word optionally in plural (``cars``, ``buses``). Where class names
    overlap in the text the longest match wins (``road marking`` rather
    than ``road``); among the remaining matches the first in the expression
    is its head noun, so ``tree near the building`` is a ``tree`` and
    ``building along the road`` a ``building``.

    Args:
        text (str): The expression.
        categories (Sequence[str]): Class names to look for. Defaults to
            :data:`REFSEGRS_CATEGORIES`.

    Returns:
        str | None: The matched class name as given in ``categories``, or
        None when the expression names none of them.
    """
    pattern = _category_pattern(tuple(categories))
    if pattern is None:
        return None
    # the regex scans left to right and, at one position, tries the longest
    # names first: its first match is the leftmost-longest one
    match = pattern[0].search(text)
    return None if match is None else pattern[1][int(match.lastgroup[1:])]


#: Words exchanged by a horizontal flip (mirror left and right).
HORIZONTAL_SWAPS = (('left', 'right'), ('leftmost', 'rightmost'),
                    ('east', 'west'), ('eastern', 'western'),
                    ('northeast', 'northwest'), ('southeast', 'southwest'))
#: Words exchanged by a vertical flip (mirror top and bottom).
VERTICAL_SWAPS = (('top', 'bottom'), ('topmost', 'bottommost'),
                  ('upper', 'lower'), ('uppermost', 'lowermost'),
                  ('north', 'south'), ('northern', 'southern'),
                  ('northeast', 'southeast'), ('northwest', 'southwest'))


def build_swap_table(pairs: Iterable[Sequence[str]]) -> Dict[str, str]:
    """Turn word pairs into a symmetric lower-case lookup table."""
    table = {}
    for a, b in pairs:
        table[a.lower()] = b.lower()
        table[b.lower()] = a.lower()
    return table


def _match_case(word: str, template: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_words(text: str, table: Dict[str, str]) -> str:
    """Exchange words of ``text`` in one pass, keeping their case.

    Args:
        text (str): The expression.
        table (dict[str, str]): Lower-case word -> replacement, as built by
            :func:`build_swap_table`.

    Returns:
        str: The text with every whole word found in ``table`` replaced
        (``Left`` -> ``Right``, ``top-left`` -> ``bottom-left`` for a
        vertical table).
    """
    if not table:
        return text
    words = sorted(table, key=len, reverse=True)
    pattern = re.compile(r'\b(' + '|'.join(map(re.escape, words)) + r')\b',
                         re.IGNORECASE)
    return pattern.sub(
        lambda m: _match_case(table[m.group(0).lower()], m.group(0)), text)
