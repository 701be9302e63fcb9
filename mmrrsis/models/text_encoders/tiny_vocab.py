"""A small WordPiece vocabulary that ships with mmrrsis.

It lets a text encoder be built without a downloaded tokenizer: tiny test
and demo configs select it with ``vocab='mmrrsis-tiny'``. It is our own
word list: the BERT special tokens, single characters (letters, digits,
punctuation) and their ``##`` continuations, so every lower-case ASCII
word can be spelled, plus a few hundred whole words that referring
expressions about aerial images use. It is not bert-base-uncased's
vocabulary; token ids mean nothing to a pretrained BERT.
"""
import string
from typing import List

#: keyword that selects this vocabulary in ``BertTextEncoder(vocab=...)``
TINY_VOCAB_NAME = 'mmrrsis-tiny'

SPECIAL_TOKENS = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')

# Whole words, grouped loosely by meaning.
_WORDS = """
the a an of on in at to by with and or is are be it its this that these
those there here which who what where one two three four five six seven
eight nine ten first second third last other another each all some any
many several few more most no not only also very into onto from over
under above below near next beside between behind around along across
through toward towards against within without out up down off side sides
left right top bottom middle center centre front back upper lower inner
outer north south east west northern southern eastern western corner
edge end ends part parts half row rows line lines group groups pair
large small big little long short wide narrow tall low high huge tiny
bright dark light heavy white black gray grey red green blue yellow
brown orange silver dense sparse empty full open closed straight curved
round square rectangular parallel main single double whole entire
closest nearest farthest furthest leftmost rightmost topmost biggest
largest smallest longest widest same different similar multiple
road roads street streets lane lanes highway path paths bikeway
bikeways sidewalk sidewalks pavement crossing crosswalk intersection
junction roundabout bridge parking lot lots marking markings arrow
arrows dashed solid stripe stripes zebra curb shoulder ramp tunnel
vehicle vehicles car cars van vans truck trucks trailer trailers bus
buses bike bikes bicycle bicycles motorcycle motorcycles train boat
boats ship ships airplane airplanes plane planes aircraft helicopter
duty driving parked moving running passing stopped waiting
building buildings house houses roof roofs tower towers chimney
structure structures factory warehouse church stadium pool pools
court courts field fields ground track tracks tank tanks storage
harbor harbour port dam windmill station airport runway apron
tree trees vegetation grass grassland lawn forest wood woods bush
bushes plant plants garden park farmland crop crops soil water river
lake pond sea sand beach
impervious surface surfaces area areas region regions zone block
blocks site land object objects thing things image picture scene view
shadow shadows
chimneys expressway overpass toll golf basketball tennis baseball
football soccer ground track field vehicle station storage
""".split()


def tiny_vocab() -> List[str]:
    """Return the tokens of the tiny vocabulary, in id order.

    Returns:
        list[str]: Special tokens first (``[PAD]`` has id 0), then
        punctuation, digits, letters, ``##`` continuations and whole
        words, without duplicates.
    """
    tokens = list(SPECIAL_TOKENS)
    singles = list(string.punctuation) + list(string.digits) + list(
        string.ascii_lowercase)
    tokens += singles
    tokens += ['##' + c for c in string.digits + string.ascii_lowercase]
    tokens += _WORDS
    seen = set()
    unique = []
    for token in tokens:
        if token not in seen:
            seen.add(token)
            unique.append(token)
    return unique
