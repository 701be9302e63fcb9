"""Score at the network's input size (the reference codes' way)."""
from mmcv.transforms import BaseTransform

from mmrrsis.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AdoptNetworkSize(BaseTransform):
    """Make the resized image the sample's original (``ori_shape``).

    mmseg resizes every prediction to ``ori_shape``; after this step (put
    right after the test pipeline's ``Resize``) that is the network's input
    size, so the logits are arg-maxed where the network made them, as the
    LAVT/RMSIN/FIANet test scripts do at 480x480, instead of being resized
    to the file's size and back. Load the mask before ``Resize`` (it is
    then resized with nearest neighbours) and score with
    ``RRSISMetric(resolution='network')``;
    :func:`~mmrrsis.evaluation.set_eval_resolution` (``tools/test.py
    --resolution network``) sets all three.

    Required Keys:

    - img_shape

    Modified Keys:

    - ori_shape
    """

    def transform(self, results: dict) -> dict:
        """Set ``ori_shape`` to ``img_shape``."""
        results['ori_shape'] = tuple(results['img_shape'][:2])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'
