"""Dataset wrappers for referring segmentation."""
import copy
from typing import Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmrrsis.registry import DATASETS


class BaseDatasetWrapper:
    """A dataset around another one: builds it from a config, shares its
    meta information and length, and initialises lazily.

    Subclasses set up what they add in :meth:`init_wrapper` (called once,
    after the wrapped dataset's ``full_init``) and implement
    ``__getitem__``.

    Args:
        dataset (BaseDataset | dict): The wrapped dataset or its config.
        lazy_init (bool): Defer loading the annotations. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 lazy_init: bool = False) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset
        self._metainfo = dataset.metainfo
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's meta information."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset, then :meth:`init_wrapper`."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self.init_wrapper()
        self._fully_initialized = True

    def init_wrapper(self) -> None:
        """Set up what the wrapper adds (the wrapped dataset is loaded)."""

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's info of sample ``idx``."""
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)


@DATASETS.register_module()
class ShuffledTextDataset(BaseDatasetWrapper):
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
        self.seed = seed
        super().__init__(dataset, lazy_init)

    def init_wrapper(self) -> None:
        """Draw the text permutation."""
        num = len(self.dataset)
        order = np.random.default_rng(self.seed).permutation(num)
        self.source = np.empty(num, dtype=np.int64)
        self.source[order] = np.roll(order, -1)
        self._texts = [
            self.dataset.get_data_info(i)['text'] for i in range(num)
        ]

    def get_data_info(self, idx: int) -> dict:
        """The wrapped sample's info with another sample's ``text``; the
        original is kept as ``original_text``."""
        info = self.dataset.get_data_info(idx)
        info['original_text'] = info['text']
        info['text'] = self._texts[self.source[idx]]
        return info

    def __getitem__(self, idx: int) -> dict:
        return self.dataset.pipeline(self.get_data_info(idx))
