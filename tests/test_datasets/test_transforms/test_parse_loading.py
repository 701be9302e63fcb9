"""LoadExpressionParse: the parse of a sample's expression, from a cache
file written by the test, or from the rule parser."""
import json

import numpy as np
import pytest

from mmrrsis.datasets.expression_parse import MissingParseError
from mmrrsis.datasets.transforms import (
    CleanText,
    LoadExpressionParse,
    PackRRSISInputs,
)


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / 'parses.json'
    path.write_text(json.dumps(dict(
        format='mmrrsis-expression-parses', version=1, parser='test',
        parses={'car on the road': dict(tokens=['car', 'on', 'the', 'road'],
                                        heads=[0, 0, 3, 1]),
                'tree': dict(tokens=['tree'], heads=[0])})))
    return str(path)


def test_attaches_the_cached_parse_of_the_cleaned_text(cache):
    sample = CleanText()(dict(text='  car on\u00a0the road ', ref_id=3))
    out = LoadExpressionParse(parse_file=cache)(sample)
    assert out['parse'] == dict(text='car on the road',
                                tokens=['car', 'on', 'the', 'road'],
                                heads=[0, 0, 3, 1])
    packed = PackRRSISInputs()(dict(out, img=np.zeros((4, 4, 3), np.uint8)))
    assert packed['data_samples'].metainfo['parse'] == out['parse']
    # no parse, no key: other models' samples stay as they were
    plain = PackRRSISInputs()(dict(text='x', img=np.zeros((4, 4, 3),
                                                          np.uint8)))
    assert 'parse' not in plain['data_samples'].metainfo


def test_missing_parse_names_expression_sample_and_tool(cache):
    transform = LoadExpressionParse(parse_file=cache)
    with pytest.raises(MissingParseError) as err:
        transform(dict(text='white car', ref_id=7, img_path='a/12.tif'))
    message = str(err.value)
    for part in ('"white car"', "ref_id=7", "'a/12.tif'", cache,
                 '2 parses', 'parse_expressions.py CONFIG'):
        assert part in message
    with pytest.raises(FileNotFoundError, match='parse_expressions.py'):
        LoadExpressionParse(parse_file=cache + '.missing')(dict(text='tree'))
    with pytest.raises(KeyError, match='no text'):
        transform(dict(texts=['a', 'b']))


def test_rule_parser_mode_and_settings():
    transform = LoadExpressionParse(parser='rules')
    out = transform(dict(text='building along the road'))
    assert out['parse']['tokens'] == ['building', 'along', 'the', 'road']
    assert out['parse']['heads'] == [0, 0, 3, 1]
    assert repr(transform) == ("LoadExpressionParse(parse_file=None, "
                               "parser='rules', max_words=20)")
    with pytest.raises(ValueError, match='exactly one source'):
        LoadExpressionParse()
    with pytest.raises(ValueError, match='exactly one source'):
        LoadExpressionParse(parse_file='x.json', parser='rules')
    with pytest.raises(ValueError, match='parse_expressions.py'):
        LoadExpressionParse(parser='spacy')


def test_inference_parses_a_new_expression():
    """A text step: inference (InferencePipeline's text steps, which the
    predictor, the scene inferencer and the app run) attaches the parse of
    an expression no dataset holds."""
    import os.path as osp

    from mmengine.config import Config

    from mmrrsis.apis.pipeline import InferencePipeline
    from mmrrsis.datasets.transforms import TextTransform
    assert isinstance(LoadExpressionParse(parser='rules'), TextTransform)
    config = osp.join(
        osp.dirname(__file__), '..', '..', '..', 'configs', 'tiny',
        'lscm_r18-tiny_refsegrs-64x64.py')
    record = InferencePipeline(Config.fromfile(config)).text_record(
        ' the long  truck ')
    assert record['text'] == 'the long truck'
    assert record['parse']['text'] == 'the long truck'
    assert record['parse']['tokens'] == ['the', 'long', 'truck']
