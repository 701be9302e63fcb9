"""Black boxes pasted into training images (RMSIN's augmentation)."""
import hashlib
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmrrsis.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomBoxes(BaseTransform):
    """Paint random square boxes into the image of some samples.

    RMSIN's training: 20% of the training refs, chosen once, get 20 to 60
    boxes of 32x32 pixels filled with 0 (black), at uniform random
    positions, every time they are loaded, before the resize to 480x480
    (so the boxes are 32 pixels of the original image). The mask and the
    expression stay as they are: the model learns to segment the referred
    object where it is partly hidden.

    Which samples: with ``subset_key`` (e.g. ``'ref_id'``) a fixed subset,
    as the reference: a sample is chosen when a hash of ``subset_seed`` and
    its key falls below ``prob``, so the same samples are chosen in every
    epoch and in every worker (about ``prob`` of them; the reference draws
    exactly ``int(0.2 * n)`` refs with Python's ``random.sample``). With
    ``subset_key=None`` each call draws anew with probability ``prob``.
    The number and positions of the boxes are drawn from numpy's global
    generator (seeded per worker by mmengine). Boxes may overlap and stay
    inside the image; an image smaller than a box is filled whole.

    Required Keys:

    - img (np.ndarray, (H, W) or (H, W, C))
    - the ``subset_key`` (e.g. ref_id), if set

    Modified Keys:

    - img

    Args:
        prob (float): Fraction of samples that get boxes. Defaults to 0.2.
        num_boxes (Sequence[int]): Inclusive range of the number of boxes.
            Defaults to (20, 60).
        box_size (int): Side of a box in pixels. Defaults to 32.
        fill (int | float): Value painted. Defaults to 0.
        subset_key (str, optional): Key that fixes the chosen subset.
            Defaults to ``'ref_id'``.
        subset_seed (int): Seed of the subset hash. Defaults to 0.
    """

    def __init__(self,
                 prob: float = 0.2,
                 num_boxes: Sequence[int] = (20, 60),
                 box_size: int = 32,
                 fill: float = 0,
                 subset_key: Optional[str] = 'ref_id',
                 subset_seed: int = 0) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}.')
        low, high = num_boxes
        if not 0 <= low <= high:
            raise ValueError(f'num_boxes must be (low, high) with 0 <= low '
                             f'<= high, got {num_boxes}.')
        if box_size < 1:
            raise ValueError(f'box_size must be positive, got {box_size}.')
        self.prob = prob
        self.num_boxes = (int(low), int(high))
        self.box_size = int(box_size)
        self.fill = fill
        self.subset_key = subset_key
        self.subset_seed = subset_seed

    def chosen(self, results: dict) -> bool:
        """Whether this sample gets boxes."""
        if self.subset_key is None:
            return np.random.rand() < self.prob
        if self.subset_key not in results:
            raise KeyError(
                f'RandomBoxes(subset_key="{self.subset_key}"): the sample '
                f'{results.get("img_path", "")} has no "{self.subset_key}"; '
                'set subset_key=None to draw per call.')
        key = f'{self.subset_seed}:{results[self.subset_key]}'.encode()
        digest = hashlib.blake2b(key, digest_size=8).digest()
        return int.from_bytes(digest, 'big') / 2**64 < self.prob

    def transform(self, results: dict) -> dict:
        """Paint the boxes into ``results['img']`` (a copy).

        Args:
            results (dict): The sample.

        Returns:
            dict: The sample.
        """
        if not self.chosen(results):
            return results
        img = results['img'].copy()
        h, w = img.shape[:2]
        size = self.box_size
        for _ in range(np.random.randint(self.num_boxes[0],
                                         self.num_boxes[1] + 1)):
            y = np.random.randint(0, max(h - size, 0) + 1)
            x = np.random.randint(0, max(w - size, 0) + 1)
            img[y:y + size, x:x + size] = self.fill
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(prob={self.prob}, '
                f'num_boxes={self.num_boxes}, box_size={self.box_size}, '
                f'fill={self.fill}, subset_key={self.subset_key!r}, '
                f'subset_seed={self.subset_seed})')
