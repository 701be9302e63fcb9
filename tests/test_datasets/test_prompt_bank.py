"""DiCoR's prompt bank: the reader (with and without a manifest) and the
dataset wrapper that hands each sample its coarse map."""
import json
import os.path as osp

import numpy as np
import pytest

from mmrrsis.datasets import PromptBank, PromptBankDataset, PromptBankError
from mmrrsis.registry import DATASETS

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferringAnnotations'),
    dict(type='PackRRSISInputs')
]


def dataset_cfg(root):
    return dict(
        type='RefSegRSDataset',
        data_root=root,
        ann_file='output_phrase_train.txt',
        pipeline=PIPELINE)


def write_bank(folder, num, epochs=(3, 5), size=(4, 6), manifest=True):
    for e in epochs:
        maps = np.memmap(
            osp.join(folder, f'ep{e}.mmap'), mode='w+', dtype=np.uint8,
            shape=(num, *size))
        for i in range(num):
            maps[i] = (i * 10 + e) % 256
        maps[1] = 0  # sample 1 left out by the bank in every snapshot
        maps.flush()
    if manifest:
        with open(osp.join(folder, 'manifest.json'), 'w') as f:
            json.dump(dict(sample_count=num, height=size[0], width=size[1],
                           snapshots=[]), f)


def test_reader_with_manifest_and_reference_layout(tmp_path):
    write_bank(str(tmp_path), 7)
    bank = PromptBank(str(tmp_path))
    assert (bank.epochs, bank.num_samples, bank.height,
            bank.width) == ([3, 5], 7, 4, 6)
    assert (bank.read(2, 1) == 25).all()
    # DiCoR's own layout: no manifest, 120x120 maps
    ref = tmp_path / 'refiner'
    ref.mkdir()
    write_bank(str(ref), 3, epochs=(10, 39), size=(120, 120), manifest=False)
    (ref / 'notes.txt').write_text('ignored')
    bank = PromptBank(str(ref))
    assert bank.epochs == [10, 39] and bank.num_samples == 3
    with pytest.raises(PromptBankError, match='whole number of 7x7'):
        PromptBank(str(ref), map_size=(7, 7))


def test_reader_errors(tmp_path):
    with pytest.raises(PromptBankError, match='does not exist'):
        PromptBank(str(tmp_path / 'none'))
    with pytest.raises(PromptBankError, match='No snapshot'):
        PromptBank(str(tmp_path))
    write_bank(str(tmp_path), 4)
    np.memmap(str(tmp_path / 'ep9.mmap'), mode='w+', dtype=np.uint8,
              shape=(5, 4, 6)).flush()
    with pytest.raises(PromptBankError, match='different numbers of maps'):
        PromptBank(str(tmp_path))


def test_wrapper_adds_maps_in_dataset_order(refsegrs_root, tmp_path):
    root, _ = refsegrs_root
    num = len(DATASETS.build(dataset_cfg(root)))
    write_bank(str(tmp_path), num)
    wrapped = DATASETS.build(
        dict(type='PromptBankDataset', dataset=dataset_cfg(root),
             bank_dir=str(tmp_path), snapshot=5))
    assert isinstance(wrapped, PromptBankDataset) and len(wrapped) == num
    sample = wrapped[2]['data_samples']
    assert sample.prompt_prob.data.shape == (1, 4, 6)
    np.testing.assert_allclose(sample.prompt_prob.data.numpy(), 25 / 255.,
                               rtol=1e-6)
    assert sample.prompt_valid and sample.prompt_epoch == 5
    assert sample.sample_idx == 2 and sample.text
    assert not wrapped[1]['data_samples'].prompt_valid
    # a random snapshot per access
    wrapped.snapshot = 'random'
    np.random.seed(0)
    epochs = {wrapped[3]['data_samples'].prompt_epoch for _ in range(12)}
    assert epochs == {3, 5}
    with pytest.raises(PromptBankError, match='has the epochs'):
        PromptBankDataset(dataset_cfg(root), str(tmp_path), snapshot=4)


def test_wrapper_refuses_a_bank_of_another_dataset(refsegrs_root, tmp_path):
    root, _ = refsegrs_root
    write_bank(str(tmp_path), 2)
    with pytest.raises(PromptBankError, match='rebuild it'):
        PromptBankDataset(dataset_cfg(root), str(tmp_path))
