"""ObjectPositionPhrases: FIANet's object words and spatial phrases, with
NLTK data written by the test (a perceptron tagger trained on a
hand-tagged corpus, empty Punkt parameters), a missing resource named, and
the lexicon mode that needs no NLTK data."""
import json
import random

import pytest

from mmrrsis.datasets.transforms import ObjectPositionPhrases, PackRRSISInputs
from mmrrsis.datasets.transforms.phrase_tokens import (
    NLTKResourceError,
    object_position_phrases,
)

nltk = pytest.importorskip('nltk')

# hand-tagged sentences (Penn tags) covering the words of the tests
CORPUS = """the/DT white/JJ car/NN in/IN the/DT parking/NN area/NN
vehicle/NN driving/VBG on/IN the/DT road/NN
building/NN along/IN the/DT road/NN
long/JJ truck/NN on/IN the/DT left/NN
a/DT small/JJ shape/NN near/IN the/DT left/JJ corner/NN
the/DT roof/NN of/IN the/DT building/NN
tree/NN near/IN the/DT large/JJ building/NN
the/DT red/JJ car/NN on/IN the/DT right/NN of/IN the/DT bus/NN
road/NN marking/NN on/IN the/DT road/NN"""


@pytest.fixture
def nltk_data(tmp_path, monkeypatch):
    """A tiny NLTK data folder, the only one NLTK searches."""
    from nltk.tag.perceptron import PerceptronTagger
    sentences = [[tuple(w.rsplit('/', 1)) for w in line.split()]
                 for line in CORPUS.splitlines()]
    state = random.getstate()
    random.seed(0)  # the training shuffles with the global generator
    tagger = PerceptronTagger(load=False)
    tagger.train(sentences, nr_iter=10)
    random.setstate(state)
    folder = tmp_path / 'taggers' / 'averaged_perceptron_tagger_eng'
    folder.mkdir(parents=True)
    for name, part in zip(tagger.param_files('eng'),
                          tagger.encode_json_obj()):
        (folder / name).write_text(json.dumps(part))
    punkt = tmp_path / 'tokenizers' / 'punkt_tab' / 'english'
    punkt.mkdir(parents=True)
    for name in ('collocations.tab', 'sent_starters.txt', 'abbrev_types.txt',
                 'ortho_context.tab'):
        (punkt / name).write_text('')
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    return tmp_path


def phrases(transform, text):
    return transform(dict(text=text))['phrase_tokens']


def test_the_reference_rule_with_nltk_data(nltk_data):
    split = ObjectPositionPhrases(classes='refsegrs')
    # a class anywhere; positions count [CLS] as 0
    assert phrases(split, 'vehicle driving on the road') == dict(
        object=[1, 5], position=[3, 4, 5])
    # a class of two words from the word holding its first word
    assert phrases(split, 'road marking on the road')['object'] == [1, 2]
    # no spatial phrase: None (the whole expression stands for it)
    assert phrases(split, 'long truck') == dict(object=[2], position=None)
    # no class word: an empty object list (the all-zero mask)
    assert phrases(split, 'a small shape near the left corner') == dict(
        object=[], position=[4, 5, 6, 7])
    # a phrase holding "of" (here "of the bus") is dropped
    assert phrases(split, 'the red car on the right of the bus') == dict(
        object=[3, 9], position=[4, 5, 6])
    assert phrases(split, 'building along the road on the left')[
        'position'] == [2, 3, 4, 5, 6, 7]
    # each phrase starts at the first word equal to its own first word: the
    # second "on" phrase lands on the first one
    assert phrases(split, 'car on the road on the left')['position'] == [
        2, 3, 4
    ]


def test_classes_are_regular_expressions_found_anywhere(nltk_data):
    split = ObjectPositionPhrases(classes=['car'])
    # "car" inside "scar": found, placed on the first word containing it
    assert phrases(split, 'the scar on the road')['object'] == [2]
    # "van" is not a class here
    assert phrases(split, 'the van')['object'] == []


def test_missing_nltk_data_is_named_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    with pytest.raises(NLTKResourceError,
                       match='punkt_tab.*python -m nltk.downloader'):
        ObjectPositionPhrases()
    with pytest.raises(NLTKResourceError,
                       match='averaged_perceptron_tagger_eng'):
        ObjectPositionPhrases(sentence_split=False)
    assert list(tmp_path.iterdir()) == []  # nothing was fetched


def test_lexicon_needs_no_nltk_data(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, 'path', [str(tmp_path)])
    split = ObjectPositionPhrases(lexicon='synthetic', sentence_split=False)
    assert phrases(split, 'light-duty vehicle driving on the road') == dict(
        object=[2, 6], position=[4, 5, 6])
    assert phrases(split, 'tree near the building') == dict(
        object=[1, 4], position=[2, 3, 4])
    assert 'lexicon=<' in repr(split) and 'sentence_split=False' in repr(
        split)
    own = ObjectPositionPhrases(
        classes=['ship'], lexicon=dict(near='IN', the='DT'),
        sentence_split=False)
    assert phrases(own, 'ship near the dam') == dict(
        object=[1], position=[2, 3, 4])


def test_bad_settings_and_inputs():
    with pytest.raises(ValueError, match='classes="dior"'):
        ObjectPositionPhrases(classes='dior', lexicon='synthetic')
    with pytest.raises(ValueError, match='lexicon="x"'):
        ObjectPositionPhrases(lexicon='x')
    split = ObjectPositionPhrases(lexicon='synthetic', sentence_split=False)
    with pytest.raises(KeyError, match='ref_id=3'):
        split(dict(ref_id=3))


def test_rule_function_takes_any_tokenizer_and_tagger():
    chunk = nltk.RegexpParser('PP: {<IN><DT>?<NN>}').parse
    got = object_position_phrases(
        'dam by the ship', ['ship'], str.split,
        lambda ws: [(w, dict(by='IN', the='DT').get(w, 'NN')) for w in ws],
        chunk)
    assert got == dict(object=[4], position=[2, 3, 4])


def test_packed_into_the_metainfo():
    import numpy as np
    split = ObjectPositionPhrases(lexicon='synthetic', sentence_split=False)
    results = split(
        dict(text='car on the road', img=np.zeros((4, 4, 3), np.uint8)))
    sample = PackRRSISInputs()(results)['data_samples']
    assert sample.metainfo['phrase_tokens'] == dict(
        object=[1, 4], position=[2, 3, 4])
    # a pipeline without the transform packs no such key
    plain = PackRRSISInputs()(
        dict(text='car', img=np.zeros((4, 4, 3), np.uint8)))
    assert 'phrase_tokens' not in plain['data_samples'].metainfo
