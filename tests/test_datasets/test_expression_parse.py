"""mmrrsis.datasets.expression_parse: the parse cache, the rule parser and
the tool that writes a config's parses."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmrrsis.datasets.expression_parse import (
    PARSE_FORMAT,
    build_parser,
    check_parse,
    parse_files_of_config,
    parse_key,
    read_parse_file,
    rule_parse,
    write_parse_file,
)
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LSCM = osp.join(REPO,
                'configs/lscm/lscm_r101-d8_1xb1-700k_refsegrs-320x320.py')
TOOL = osp.join(REPO, 'tools/dataset_converters/parse_expressions.py')


def _arcs(text):
    p = rule_parse(text)
    return [(t, p['tokens'][h], d)
            for t, h, d in zip(p['tokens'], p['heads'], p['deps'])]


def test_rule_parser_on_refsegrs_style_expressions():
    assert _arcs('light-duty vehicle driving on the road') == [
        ('light', 'vehicle', 'dep'), ('-', 'duty', 'punct'),
        ('duty', 'vehicle', 'dep'), ('vehicle', 'vehicle', 'ROOT'),
        ('driving', 'vehicle', 'acl'), ('on', 'driving', 'prep'),
        ('the', 'road', 'dep'), ('road', 'on', 'pobj')
    ]
    # nouns ending in -ing stay nouns
    assert _arcs('large building along the road')[1] == ('building',
                                                         'building', 'ROOT')
    assert _arcs('road marking')[-1] == ('marking', 'marking', 'ROOT')
    assert _arcs('car in the parking area')[3] == ('parking', 'area', 'dep')
    assert _arcs('tree near the building and the road')[-1] == (
        'road', 'building', 'conj')
    assert rule_parse('') == dict(tokens=[], heads=[], deps=[])
    # the words the references parse: lower-cased, split, cut to 20
    long = rule_parse(' '.join(['Car'] * 25) + '.')
    assert long['tokens'] == ['car'] * 20
    for text in ('the white car parked on the left side of the road',
                 'vehicle parked next to the building', 'car, on the road'):
        parse = check_parse(rule_parse(text), text)
        assert [d for d in parse['deps']].count('ROOT') == 1


def test_cache_round_trip_and_errors(tmp_path):
    path = str(tmp_path / 'parses.json')
    parses = {'car on the road': rule_parse('car on the road'),
              'tree': dict(tokens=['tree'], heads=[0])}
    write_parse_file(path, parses, 'rules')
    data = json.load(open(path))
    assert data['format'] == PARSE_FORMAT and data['parser'] == 'rules'
    assert read_parse_file(path) == parses
    bad = dict(data, parses={'car': dict(tokens=['car'], heads=[3])})
    with open(path, 'w') as f:
        json.dump(bad, f)
    os.utime(path, (1, 1))  # another version of the file
    with pytest.raises(ValueError, match='parse of "car".*index of its head'):
        read_parse_file(path)
    with open(path, 'w') as f:
        json.dump(dict(parses={}), f)
    os.utime(path, (2, 2))
    with pytest.raises(ValueError, match='not a parse cache'):
        read_parse_file(path)
    with pytest.raises(FileNotFoundError, match='parse_expressions.py'):
        read_parse_file(str(tmp_path / 'none.json'))
    assert parse_key(' Car\u00a0 on  the road ') == 'Car on the road'


def test_spacy_parser_is_optional():
    try:
        import spacy  # noqa: F401
    except ImportError:
        from mmrrsis.datasets.expression_parse import ParserUnavailableError
        with pytest.raises(ParserUnavailableError, match='--parser rules'):
            build_parser('spacy')
    with pytest.raises(ValueError, match='parser must be one of'):
        build_parser('stanza')


def test_parse_files_of_config():
    cfg = Config.fromfile(LSCM)
    assert {p for _, p in parse_files_of_config(cfg)} == {
        'data/RefSegRS/expression_parses.json'
    }


def test_tool_writes_the_parses_the_config_reads(tmp_path):
    root = str(tmp_path / 'data')
    make_synthetic_refsegrs(root, 6, size=64, seed=4, show_progress=False)
    out = str(tmp_path / 'parses.json')
    options = [f'{s}_dataloader.dataset.data_root={root}'
               for s in ('train', 'val', 'test')]
    options += [
        f'{s}_dataloader.dataset.pipeline.4.parse_file={out}'
        for s in ('train', 'val', 'test')
    ]

    tool = _load_tool()

    def run(*extra):
        return tool.main([LSCM, *extra, '--cfg-options', *options])

    written = run('--parser', 'rules')
    parses = read_parse_file(out)
    texts = set()
    for split in ('train', 'val', 'test'):
        with open(osp.join(root, f'output_phrase_{split}.txt')) as f:
            texts |= {line.split(' ', 1)[1].strip() for line in f}
    assert set(parses) == texts
    assert written == [dict(path=out, parser=written[0]['parser'],
                            expressions=len(texts), added=len(texts),
                            total=len(texts))]
    again = run('--parser', 'rules', '--splits', 'val')
    assert again[0]['added'] == 0 and again[0]['total'] == len(texts)
    try:
        import spacy  # noqa: F401
    except ImportError:
        with pytest.raises(SystemExit,
                           match='^error: spaCy is not installed'):
            run()


def _load_tool():
    spec = importlib.util.spec_from_file_location('parse_expressions', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool
