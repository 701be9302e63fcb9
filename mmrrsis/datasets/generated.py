"""Datasets that generate their data on first use (out-of-the-box
configs)."""
import os
import os.path as osp
import shutil
import tempfile
from typing import List, Sequence

from mmengine.dist import barrier, get_dist_info

__all__ = ['GeneratedOnFirstUse']


class GeneratedOnFirstUse:
    """Mixin of a referring dataset that generates its files when missing.

    Put before the dataset class (``class X(GeneratedOnFirstUse,
    SomeDataset)``) and implement :meth:`write_data`. When the annotation
    file (``ann_file``) is not there yet, the whole set is generated under
    ``data_root`` first, so a config runs out of the box. In a distributed
    run only rank 0 generates while the other ranks wait at a barrier, then
    all read the same files; every rank therefore builds the dataset (as
    mmengine's runner does). A rank that still finds no data after the
    barrier (a node without a shared file system) generates its own copy.
    The set is written to a temporary sibling folder and renamed into
    place, so processes that generate at the same time never read
    half-written files. An existing set is used as it is, whatever
    arguments made it.

    Args:
        num_images (int): Distinct images to generate. Defaults to 200.
        size (int): Image side in pixels. Defaults to 512.
        seed (int): Generator seed. Defaults to 0.
        split_ratios (Sequence[float]): Train, val, test proportions.
            Defaults to (0.7, 0.15, 0.15).
        **kwargs: Arguments of the dataset class; ``data_root`` is
            required.
    """
    #: Read by the runner's data check: missing files are not an error.
    generates_missing_data = True

    def __init__(self,
                 num_images: int = 200,
                 size: int = 512,
                 seed: int = 0,
                 split_ratios: Sequence[float] = (.7, .15, .15),
                 **kwargs) -> None:
        self.num_images = num_images
        self.size = size
        self.seed = seed
        self.split_ratios = tuple(split_ratios)
        super().__init__(**kwargs)

    def write_data(self, root: str) -> None:
        """Generate the whole set into ``root`` (a fresh folder)."""
        raise NotImplementedError

    def read_annotations(self) -> List[dict]:
        """Generate the data once if needed, then read it."""
        self.generate_once()
        return super().read_annotations()

    def generate_once(self) -> None:
        """Make sure the data exists: rank 0 generates, the others wait."""
        rank, world_size = get_dist_info()
        error = None
        if rank == 0 and not osp.isfile(self.ann_file):
            try:
                self._generate()
            except Exception as e:  # the others must not wait forever
                error = e
        if world_size > 1:
            barrier()
        if error is not None:
            raise error
        if not osp.isfile(self.ann_file):  # not rank 0, or no shared disk
            self._generate()

    def _generate(self) -> None:
        name = type(self).__name__
        if not self.data_root:
            raise ValueError(f'{name} needs a data_root to generate its '
                             'data in')
        root = osp.abspath(self.data_root)
        if osp.isdir(root) and os.listdir(root):
            raise FileNotFoundError(
                f'{self.ann_file} is missing, but {root} is not empty; '
                'refusing to generate data into it. Remove the folder or '
                'point data_root elsewhere.')
        parent = osp.dirname(root)
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=osp.basename(root) + '.tmp-',
                               dir=parent)
        try:
            self.write_data(tmp)
            try:
                os.rename(tmp, root)  # atomic; replaces an empty folder
            except OSError:
                if not osp.isfile(self.ann_file):  # nobody else made it
                    raise
        finally:
            if osp.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
