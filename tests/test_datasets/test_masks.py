"""Soft edges of stored masks (mmrrsis/datasets/masks.py): counted per
mask, and once per dataset build in one warning (how many masks, how many
pixels, how many of them the rule reads as target)."""
import numpy as np
import pytest

from mmrrsis.datasets import RefSegRSDataset
from mmrrsis.datasets.masks import (
    describe_soft_edges,
    mask_problem,
    soft_edge_pixels,
)


def test_soft_edge_pixels_and_how_the_rule_reads_them():
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 128  # a ring of 128 within a pixel of the target
    mask[5:11, 5:11] = 255
    mask[4, 4:12] = 30  # one side of the ring under 50
    assert mask_problem(mask, 50) is None  # accepted by the rule...
    ring = 8 * 8 - 6 * 6
    assert soft_edge_pixels(mask, 50) == (ring, ring - 8)  # ...and counted
    assert soft_edge_pixels(mask, 200) == (ring, 0)
    assert soft_edge_pixels(np.stack([mask] * 3, -1), 50) == (ring, ring - 8)
    assert soft_edge_pixels((mask > 50).astype(np.uint8) * 255, 50) == (0, 0)
    assert soft_edge_pixels(np.zeros((4, 4), np.uint8)) == (0, 0)
    text = describe_soft_edges(8, 19, 1234, 1000, 50, ['a.tif'])
    assert text.startswith('8 of 19 masks have a soft edge')
    assert '1,234 pixels, of which 1,000 are read as target and 234 as ' \
        'background under the rule value > 50' in text


def test_a_dataset_build_says_it_once(refsegrs_copy):
    root, copy = refsegrs_copy
    with pytest.warns(UserWarning) as record:
        dataset = RefSegRSDataset(data_root=root)
    said = [str(w.message) for w in record if 'soft edge' in str(w.message)]
    stored = [copy['stored'][i] for i in '012']  # the train split
    between = sum(int(((m > 0) & (m < 255)).sum()) for m in stored)
    as_target = sum(int(((m > 50) & (m < 255)).sum()) for m in stored)
    assert len(said) == 1
    assert '3 of 3 masks have a soft edge' in said[0]
    assert f'{between:,} pixels, of which {as_target:,} are read as ' \
        'target' in said[0]
    assert dataset.soft_edges['pixels'] == between
    assert dataset.soft_edges['as_target'] == as_target
    # the masks are still read with the authors' > 50
    assert dataset.get_data_info(0)['mask_threshold'] == 50
