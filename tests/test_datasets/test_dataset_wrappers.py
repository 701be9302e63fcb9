"""ShuffledTextDataset: expressions move, images and masks stay."""
import numpy as np

from mmrrsis.datasets import ShuffledTextDataset
from mmrrsis.registry import DATASETS

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='PackRRSISInputs')
]


def dataset_cfg(root, pipeline=PIPELINE):
    return dict(
        type='RefSegRSDataset',
        data_root=root,
        ann_file='output_phrase_train.txt',
        pipeline=pipeline)


def test_shuffled_texts_are_a_derangement(refsegrs_root):
    root, _ = refsegrs_root
    plain = DATASETS.build(dataset_cfg(root))
    shuffled = DATASETS.build(
        dict(type='ShuffledTextDataset', dataset=dataset_cfg(root), seed=3))
    assert isinstance(shuffled, ShuffledTextDataset)
    n = len(plain)
    assert len(shuffled) == n > 2
    texts = [plain.get_data_info(i)['text'] for i in range(n)]
    new = [shuffled.get_data_info(i)['text'] for i in range(n)]
    # a permutation of the same lines in which no sample keeps its own line
    assert sorted(new) == sorted(texts)
    assert all(shuffled.source[i] != i for i in range(n))
    assert new == [texts[j] for j in shuffled.source]
    assert shuffled.get_data_info(0)['original_text'] == texts[0]
    # the image, the mask and the category stay with the sample
    for i in range(min(n, 4)):
        a, b = plain[i], shuffled[i]
        assert b['data_samples'].text == new[i]
        assert b['data_samples'].category == a['data_samples'].category
        assert np.array_equal(a['inputs'].numpy(), b['inputs'].numpy())
        assert np.array_equal(a['data_samples'].gt_sem_seg.data.numpy(),
                              b['data_samples'].gt_sem_seg.data.numpy())


def test_seed_changes_the_cycle(refsegrs_root):
    root, _ = refsegrs_root
    a = ShuffledTextDataset(dataset_cfg(root, []), seed=0)
    b = ShuffledTextDataset(dataset_cfg(root, []), seed=0)
    c = ShuffledTextDataset(dataset_cfg(root, []), seed=1)
    assert np.array_equal(a.source, b.source)
    assert not np.array_equal(a.source, c.source)
