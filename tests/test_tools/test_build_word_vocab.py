"""tools/dataset_converters/build_word_vocab.py: a config's vocabulary and
GloVe vectors where its LSTM text encoder reads them."""
import importlib.util
import os.path as osp

import numpy as np
import pytest

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.datasets.text_utils import split_words
from mmrrsis.models.text_encoders import load_word_vocab

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/dataset_converters/build_word_vocab.py')
CMPC = osp.join(REPO,
                'configs/cmpc/cmpc+_r101-d8_1xb1-700k_refsegrs-320x320.py')


def test_writes_vocabulary_and_glove_vectors(tmp_path):
    root = str(tmp_path / 'data')
    make_synthetic_refsegrs(root, 6, size=64, seed=4, show_progress=False)
    glove = tmp_path / 'glove.txt'
    glove.write_text('car 1 2 3\nroad 4 5 6\nthe 0 0 1\n')
    vocab, vectors = str(tmp_path / 'v.txt'), str(tmp_path / 'e.npy')
    spec = importlib.util.spec_from_file_location('build_word_vocab', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    result = tool.main([
        CMPC, '--glove', str(glove), '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        f'model.text_encoder.vocab={vocab}',
        f'model.text_encoder.embeddings={vectors}',
        'model.text_encoder.embed_dims=3'
    ])
    words = load_word_vocab(vocab)
    assert words[:4] == ['<pad>', '<go>', '<eos>', '<unk>']
    with open(osp.join(root, 'output_phrase_train.txt')) as f:
        train = {w for line in f
                 for w in split_words(line.split(' ', 1)[1])}
    assert set(words[4:]) == train and 'car' in words
    table = np.load(vectors)
    assert table.shape == (len(words), 3)
    assert table[words.index('road')].tolist() == [4, 5, 6]
    assert (result['covered'], result['words']) == (3, len(words))
    with pytest.raises(SystemExit,
                       match='^error: Where should the GloVe vectors go'):
        tool.main([
            CMPC, '--vocab-out', vocab, '--glove', str(glove),
            '--cfg-options', f'train_dataloader.dataset.data_root={root}',
            'model.text_encoder.embeddings=x.txt'
        ])
