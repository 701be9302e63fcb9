"""Dataset wrappers for referring segmentation."""
import copy
from typing import Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmrrsis.registry import DATASETS


@DATASETS.register_module()
class ShuffledTextDataset:
    """Give every sample the expression of another sample of its split.

    The language ablation (``tools/analysis_tools/language_ablation.py``):
    a model that reads the expression must score clearly worse when the
    expressions are shuffled, while a model that ignores them scores the
    same. Images, masks and categories stay; only ``text`` moves.

    The samples are put in one random cycle (seeded) and each takes the
    expression of the next one in it, so with two or more samples no sample
    keeps its own line (two lines may still read the same, e.g. "car").

    Args:
        dataset (BaseDataset | dict): The wrapped dataset or its config.
        seed (int): Seed of the cycle. Defaults to 0.
        lazy_init (bool): Defer loading the annotations. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 seed: int = 0,
                 lazy_init: bool = False):
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset
        self.seed = seed
        self._metainfo = dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's meta information."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and draw the text permutation."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        num = len(self.dataset)
        order = np.random.default_rng(self.seed).permutation(num)
        self.source = np.empty(num, dtype=np.int64)
        self.source[order] = np.roll(order, -1)
        self._texts = [
            self.dataset.get_data_info(i)['text'] for i in range(num)
        ]
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        """The wrapped sample's info with another sample's ``text``; the
        original is kept as ``original_text``."""
        info = self.dataset.get_data_info(idx)
        info['original_text'] = info['text']
        info['text'] = self._texts[self.source[idx]]
        return info

    def __getitem__(self, idx: int) -> dict:
        return self.dataset.pipeline(self.get_data_info(idx))

    def __len__(self) -> int:
        return len(self.dataset)
