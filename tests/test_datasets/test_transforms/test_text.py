"""CleanText, RandomSentence and the text helpers."""
import pytest

from mmrrsis.datasets.text_utils import (
    HORIZONTAL_SWAPS,
    VERTICAL_SWAPS,
    build_swap_table,
    find_category,
    normalize_text,
    swap_words,
)
from mmrrsis.datasets.transforms import CleanText, RandomSentence
from mmrrsis.registry import TRANSFORMS


def test_clean_text_normalises_whitespace_and_unicode():
    t = CleanText()
    raw = '\ufeff  Long\u00a0truck \t on\nthe\u200b road\u3000 \uff43ar  '
    out = t(dict(text=raw))
    assert out['text'] == 'Long truck on the road car'
    assert CleanText(lower=True)(dict(text=raw))['text'] == \
        'long truck on the road car'
    assert t(dict(text='ﬁeld\x07 road'))['text'] == 'field road'
    assert repr(t) == 'CleanText(lower=False)'
    assert isinstance(TRANSFORMS.build(dict(type='CleanText')), CleanText)


def test_clean_text_rejects_empty_expression_naming_sample():
    with pytest.raises(ValueError, match='Empty referring expression') as e:
        CleanText()(dict(text=' \u200b\t ', ref_id='17', img_path='a.tif'))
    assert "ref_id='17'" in str(e.value) and "'a.tif'" in str(e.value)
    with pytest.raises(KeyError, match='RandomSentence'):
        CleanText()(dict(text=None, texts=['a car'], ref_id=3))
    with pytest.raises(TypeError, match='must be a str'):
        CleanText()(dict(text=['car']))


def test_random_sentence_seeded_and_complete():
    texts, ids = ['car', 'the car', 'a red car'], [10, 11, 12]
    draws = [
        RandomSentence(seed=4)(dict(texts=texts, sent_ids=ids))
        for _ in range(3)
    ]
    assert len({(d['text'], d['sent_id']) for d in draws}) == 1
    t = RandomSentence(seed=0)
    seen = {}
    for _ in range(60):
        out = t(dict(texts=texts, sent_ids=ids))
        seen[out['text']] = out['sent_id']
    assert seen == dict(zip(texts, ids))
    # without ids the index is the sentence id; a plain text passes
    out = RandomSentence(seed=1)(dict(texts=['x', 'y']))
    assert out['sent_id'] == ['x', 'y'].index(out['text'])
    assert RandomSentence()(dict(text='car', sent_id=5)) == dict(
        text='car', sent_id=5)
    with pytest.raises(KeyError):
        RandomSentence()(dict(texts=[], text=None))
    assert repr(RandomSentence(seed=3)) == 'RandomSentence(seed=3)'


@pytest.mark.parametrize('text,category', [
    ('road marking on the road', 'road marking'),
    ('building along the road', 'building'),
    ('tree near the building', 'tree'),
    ('light-duty vehicle driving on the road', 'vehicle'),
    ('long truck', 'truck'),
    ('Buses parked', 'bus'),
    ('the low vegetation', 'low vegetation'),
    ('impervious surfaces', 'impervious surface'),
    ('a caravan', None),
    ('', None),
])
def test_find_category(text, category):
    assert find_category(text) == category


def test_find_category_custom_names_keep_their_spelling():
    assert find_category('two Airplanes', ['airplane', 'ship']) == 'airplane'
    assert find_category('anything', []) is None


def test_swap_words_keeps_case_and_whole_words():
    h = build_swap_table(HORIZONTAL_SWAPS)
    v = build_swap_table(VERTICAL_SWAPS)
    assert swap_words('Left car, top-left roof, LEFT lane, lefty', h) == \
        'Right car, top-right roof, RIGHT lane, lefty'
    assert swap_words('upper left tree at the bottom', v) == \
        'lower left tree at the top'
    assert swap_words('northeast corner', h) == 'northwest corner'
    assert swap_words('no direction', h) == 'no direction'
    assert normalize_text(' a \n b ') == 'a b'
