"""DiCoR's prompt bank: coarse foreground probabilities of every training
sample, one uint8 memory map per coarse snapshot, and the dataset wrapper
that hands them to the later stages."""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.structures import PixelData

from mmrrsis.registry import DATASETS

from .dataset_wrappers import BaseDatasetWrapper

MANIFEST = 'manifest.json'
#: map size of a bank without a manifest (DiCoR's: 480 / 4)
REFERENCE_MAP_SIZE = (120, 120)
_SNAPSHOT = re.compile(r'^ep(\d+)\.mmap$')


class PromptBankError(ValueError):
    """A prompt bank folder that cannot be read as asked."""


def snapshot_name(epoch: int) -> str:
    """File name of a snapshot's map: ``ep{epoch}.mmap``."""
    return f'ep{int(epoch)}.mmap'


def read_manifest(bank_dir: str) -> Optional[dict]:
    """The bank's ``manifest.json`` (written by
    :func:`mmrrsis.apis.build_prompt_bank`), or None."""
    path = osp.join(bank_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


class PromptBank:
    """Read a prompt bank folder.

    Layout (DiCoR's, which its reader ``prompt_bank.py`` reads from
    ``<bank>/refiner/`` and ``<bank>/localization/``)::

        ep10.mmap  ep15.mmap  ...     uint8 (N, h, w), row i = sample i
        manifest.json                 (ours; optional) sample count, h, w,
                                      snapshots, how the bank was built

    A value v stands for the probability v / 255; a map that is all zero
    marks a sample the bank left out (e.g. by the IoU filter). Without a
    manifest the maps are taken to be ``map_size`` (DiCoR's 120x120) and N
    is read from the file size.

    Args:
        bank_dir (str): The folder.
        map_size (tuple[int, int], optional): (h, w) for a bank without a
            manifest. Defaults to None (the manifest's, else 120x120).

    Raises:
        PromptBankError: No snapshot, sizes that do not fit, snapshots of
            different lengths, a manifest that disagrees with the files.
    """

    def __init__(self,
                 bank_dir: str,
                 map_size: Optional[Tuple[int, int]] = None) -> None:
        self.bank_dir = bank_dir
        if not osp.isdir(bank_dir):
            raise PromptBankError(
                f'Prompt bank folder {bank_dir} does not exist; build it '
                'with tools/misc/build_prompt_bank.py from the coarse '
                "stage's snapshots.")
        found = []
        for name in os.listdir(bank_dir):
            match = _SNAPSHOT.match(name)
            if match:
                found.append((int(match.group(1)), name))
        if not found:
            raise PromptBankError(
                f'No snapshot (ep<N>.mmap) in the prompt bank {bank_dir}; '
                'build it with tools/misc/build_prompt_bank.py.')
        found.sort()
        self.epochs = [e for e, _ in found]
        self.files = [osp.join(bank_dir, n) for _, n in found]
        manifest = read_manifest(bank_dir)
        if manifest is not None:
            size = (int(manifest['height']), int(manifest['width']))
            if map_size is not None and tuple(map_size) != size:
                raise PromptBankError(
                    f'map_size={tuple(map_size)} disagrees with '
                    f'{osp.join(bank_dir, MANIFEST)} ({size}).')
        else:
            size = tuple(map_size or REFERENCE_MAP_SIZE)
        self.height, self.width = size
        counts = []
        for path in self.files:
            nbytes = osp.getsize(path)
            if nbytes % (self.height * self.width):
                raise PromptBankError(
                    f'{path} has {nbytes} bytes, not a whole number of '
                    f'{self.height}x{self.width} uint8 maps; set the map '
                    'size the bank was built with (PromptBankDataset '
                    'map_size) or rebuild it.')
            counts.append(nbytes // (self.height * self.width))
        if len(set(counts)) != 1:
            raise PromptBankError(
                f'The snapshots of {bank_dir} hold different numbers of '
                'maps: ' + ', '.join(
                    f'{osp.basename(p)}: {n}'
                    for p, n in zip(self.files, counts)) +
                '; rebuild the bank.')
        self.num_samples = counts[0]
        if manifest is not None and int(
                manifest['sample_count']) != self.num_samples:
            raise PromptBankError(
                f'{osp.join(bank_dir, MANIFEST)} says '
                f'{manifest["sample_count"]} samples, the files hold '
                f'{self.num_samples}.')
        self.manifest = manifest
        self._maps: List[Optional[np.memmap]] = [None] * len(self.files)

    def __len__(self) -> int:
        """Number of snapshots."""
        return len(self.files)

    def read(self, index: int, snapshot: int) -> np.ndarray:
        """One sample's map of one snapshot.

        Args:
            index (int): Sample index (row).
            snapshot (int): Position in :attr:`epochs`.

        Returns:
            np.ndarray: (h, w) uint8.
        """
        if self._maps[snapshot] is None:  # opened in the reading process
            self._maps[snapshot] = np.memmap(
                self.files[snapshot],
                mode='r',
                dtype=np.uint8,
                shape=(self.num_samples, self.height, self.width))
        return np.array(self._maps[snapshot][index])

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_maps'] = [None] * len(self.files)
        return state


@DATASETS.register_module()
class PromptBankDataset(BaseDatasetWrapper):
    """Add the prompt bank's coarse probability to every sample of a
    dataset (DiCoR's refiner and guide stages).

    Sample i gets the map of row i of one snapshot, drawn at random for
    every access (``snapshot='random'``, as the reference) or fixed (an
    epoch number), as ``data_sample.prompt_prob`` (``PixelData`` with
    ``data`` (1, h, w) float32 in [0, 1]) and the metainfo
    ``prompt_valid`` (False when the map is all zero: the bank left the
    sample out), ``prompt_epoch`` and ``sample_idx``. The rows follow the
    wrapped dataset's order, which must be the order the bank was built
    in (the same annotation file and settings; the manifest's sample
    count is checked).

    The wrapped dataset must not skip or replace samples (its pipeline
    must not return None): a replaced sample would get another sample's
    map.

    Args:
        dataset (BaseDataset | dict): The training dataset or its config.
        bank_dir (str): The bank folder.
        snapshot (str | int): ``'random'`` or an epoch of the bank.
            Defaults to ``'random'``.
        map_size (tuple[int, int], optional): See :class:`PromptBank`.
            Defaults to None.
        lazy_init (bool): Defer loading. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 bank_dir: str,
                 snapshot: Union[str, int] = 'random',
                 map_size: Optional[Tuple[int, int]] = None,
                 lazy_init: bool = False) -> None:
        self.bank_dir = bank_dir
        self.snapshot = snapshot
        self.map_size = map_size
        super().__init__(dataset, lazy_init)

    def init_wrapper(self) -> None:
        """Open the bank; check it fits the dataset."""
        self.bank = PromptBank(self.bank_dir, self.map_size)
        if self.bank.num_samples != len(self.dataset):
            raise PromptBankError(
                f'The prompt bank {self.bank_dir} holds '
                f'{self.bank.num_samples} maps a snapshot but the dataset '
                f'has {len(self.dataset)} samples: the bank was built from '
                'another split, annotation file or setting (e.g. '
                "text_mode); rebuild it with this config's training "
                'dataset.')
        if self.snapshot != 'random' and int(
                self.snapshot) not in self.bank.epochs:
            raise PromptBankError(
                f'snapshot={self.snapshot}: the bank {self.bank_dir} has '
                f'the epochs {self.bank.epochs}.')

    def __getitem__(self, idx: int) -> Dict:
        if not self._fully_initialized:
            self.full_init()
        results = self.dataset.prepare_data(idx)
        if results is None:
            raise PromptBankError(
                f'The pipeline dropped sample {idx}; PromptBankDataset '
                'needs every sample (the bank is indexed by sample).')
        if self.snapshot == 'random':
            snapshot = int(np.random.randint(len(self.bank)))
        else:
            snapshot = self.bank.epochs.index(int(self.snapshot))
        prob = self.bank.read(idx, snapshot)
        sample = results['data_samples']
        sample.prompt_prob = PixelData(
            data=torch.from_numpy(prob.astype(np.float32) / 255.)[None])
        sample.set_metainfo(
            dict(
                prompt_valid=bool(prob.any()),
                prompt_epoch=self.bank.epochs[snapshot],
                sample_idx=idx))
        return results


__all__ = [
    'MANIFEST', 'PromptBank', 'PromptBankDataset', 'PromptBankError',
    'REFERENCE_MAP_SIZE', 'read_manifest', 'snapshot_name'
]
