"""browse_dataset, dataset_stats and benchmark_dataloader on generated data."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmrrsis.datasets.synthetic import RULES

TOOLS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'analysis_tools')


def _tool(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(TOOLS, name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_browse_dataset(configs_dir, refsegrs_root, tmp_path):
    root, summary = refsegrs_root
    out_dir = str(tmp_path / 'browse')
    written = _tool('browse_dataset').main([
        osp.join(configs_dir, 'refsegrs.py'), '--output-dir', out_dir,
        '--data-root', root, '--split', 'train', '--max-samples', '3'
    ])
    assert len(written) == 3 == len(os.listdir(out_dir))
    img = cv2.imread(written[0])
    assert img.shape[1] == 480 and img.shape[0] > 480  # text band on top
    band = img[:img.shape[0] - 480]
    assert band.max() > 200  # the expression is written


def test_browse_draws_mask_on_the_target():
    browse = _tool('browse_dataset')
    img = np.full((60, 80, 3), 100, np.uint8)
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 20:50] = 1
    out = browse.draw_sample(img, mask, 'a long expression ' * 4, 'hdr')
    body = out[-60:]
    assert body[20, 35, 2] > 150 and body[20, 35, 0] < 100  # red inside
    assert (body[45, 5] == 100).all()  # untouched outside
    assert out.shape[0] > 60 + 3 * 10  # wrapped into several lines


def _write_vocab(path):
    words = {w for r in RULES for w in r.text.replace('-', ' ').split()}
    tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '-'] + sorted(
        words)
    path.write_text('\n'.join(tokens) + '\n')
    return str(path)


def test_dataset_stats(configs_dir, refsegrs_root, tmp_path):
    root, summary = refsegrs_root
    vocab = _write_vocab(tmp_path / 'vocab.txt')
    out = str(tmp_path / 'stats.json')
    stats = _tool('dataset_stats').main([
        osp.join(configs_dir, 'refsegrs.py'), '--data-root', root,
        '--tokenizer', vocab, '--max-tokens', '4', '--out', out, '--quiet'
    ])
    assert json.load(open(out)) == json.loads(json.dumps(stats))
    meta = json.load(open(osp.join(root, 'synthetic_meta.json')))['samples']
    for split in ('train', 'val', 'test'):
        overall = stats['splits'][split]['overall']
        samples = [m for m in meta.values() if m['split'] == split]
        assert overall['samples'] == summary['splits'][split] == len(samples)
        areas = np.array([m['area'] for m in samples])
        assert overall['small_share'] == pytest.approx(
            (areas < .01).mean(), abs=1e-4)
        assert overall['area_mean'] == pytest.approx(areas.mean(), abs=1e-4)
        tokens = [
            len(m['expression'].replace('-', ' - ').split()) + 2
            for m in samples
        ]
        assert overall['tokens_max'] == max(tokens)
        assert overall['over_max_tokens'] == sum(t > 4 for t in tokens)
        words = [len(m['expression'].split()) for m in samples]
        assert overall['words_max'] == max(words)
        cats = stats['splits'][split]['categories']
        assert sum(v['samples'] for v in cats.values()) == len(samples)
    assert 'small_target' in stats['definitions']


def test_dataset_stats_refer_counts_sentences(configs_dir, refer_root):
    root, summary = refer_root
    stats = _tool('dataset_stats').main([
        osp.join(configs_dir, 'rrsisd.py'), '--data-root', root, '--quiet',
        '--splits', 'train'
    ])
    meta = json.load(open(osp.join(root, 'rrsisd',
                                   'synthetic_meta.json')))['samples']
    train = [m for m in meta.values() if m['split'] == 'train']
    overall = stats['splits']['train']['overall']
    assert overall['samples'] == sum(len(m['sentences']) for m in train)
    assert overall['refs'] == len(train) == summary['splits']['train']


def test_benchmark_dataloader(configs_dir):
    result = _tool('benchmark_dataloader').main([
        osp.join(configs_dir, 'refsegrs.py'), '--generate', '3', '--size',
        '32', '--num-workers', '0', '--batch-size', '1', '--max-iters', '4',
        '--warmup', '1'
    ])
    assert result['samples'] == 4 and result['batches'] == 4
    assert result['input_shape'] == (3, 480, 480)
    assert result['samples_per_s'] > 0
