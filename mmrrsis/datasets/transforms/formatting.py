"""Pack a referring sample for the model."""
from typing import Sequence

from mmseg.datasets.transforms import PackSegInputs

from mmrrsis.registry import TRANSFORMS

from .loading import describe_sample

#: The meta keys mmseg's PackSegInputs packs by default.
SEG_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                 'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                 'reduce_zero_label')
#: The referring keys packed in addition; always present in the metainfo.
REFERRING_META_KEYS = ('text', 'ref_id', 'sent_id', 'category', 'split')
#: Keys of text transforms a text encoder reads (its ``meta_keys``),
#: packed when the sample has them: ``phrase_tokens``
#: (:class:`ObjectPositionPhrases`, FIANet).
TEXT_META_KEYS = ('phrase_tokens', )


@TRANSFORMS.register_module()
class PackRRSISInputs(PackSegInputs):
    """Pack image, mask and expression into ``inputs`` and a data sample.

    Like mmseg's :class:`~mmseg.datasets.transforms.PackSegInputs`, plus
    the expression: the model reads its text from
    ``data_sample.metainfo['text']`` (a str; tokenising is the text
    encoder's job).

    Required Keys:

    - img (np.ndarray): (H, W, 3)
    - gt_seg_map (np.ndarray, optional): (H, W), values in {0, 1}
    - text (str), unless ``image_only`` is True (an image packed alone,
      e.g. a window of a scene whose expressions the model gets apart)
    - ref_id, sent_id, category, split (optional; None when absent)
    - the meta keys of PackSegInputs, where present

    Added Keys:

    - inputs (torch.Tensor): (3, H, W) uint8 image
    - data_samples (SegDataSample): ``gt_sem_seg.data`` (1, H, W) int64;
      metainfo with ``meta_keys``. Keys a pipeline without flip or padding
      does not set get their neutral value: ``flip=False``,
      ``flip_direction=None``, ``pad_shape`` = the image's (H, W),
      ``scale_factor=(1.0, 1.0)``; ``ref_id``, ``sent_id``,
      ``category`` and ``split`` are None when the sample has none.

    Args:
        meta_keys (Sequence[str]): Keys to pack into the metainfo, where the
            sample has them. Defaults to mmseg's keys plus the referring
            keys and the text transforms' keys (``phrase_tokens``).
    """

    def __init__(self,
                 meta_keys: Sequence[str] = SEG_META_KEYS +
                 REFERRING_META_KEYS + TEXT_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        """Pack the sample.

        Args:
            results (dict): The sample after the pipeline.

        Returns:
            dict: ``inputs`` (3, H, W) uint8 tensor and ``data_samples``.
        """
        image_only = results.get('image_only') and 'text' not in results
        if not image_only and not isinstance(results.get('text'), str):
            raise KeyError(f'{describe_sample(results)} has no text (str) '
                           'to pack')
        packed = super().transform(results)
        sample = packed['data_samples']
        defaults = dict.fromkeys(REFERRING_META_KEYS)
        defaults.update(flip=False, flip_direction=None, scale_factor=(1., 1.))
        if 'img' in results:
            defaults['pad_shape'] = tuple(results['img'].shape[:2])
        missing = {
            key: value
            for key, value in defaults.items()
            if key in self.meta_keys and key not in sample.metainfo
        }
        if missing:
            sample.set_metainfo(missing)
        return packed
