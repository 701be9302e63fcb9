"""Names of samples in the files that tools write (predicted masks,
drawings): one rule for the metric's output and the visualization hook."""
import os.path as osp


def sample_name(data_sample: dict) -> str:
    """A file name stem unique to one (image, expression) sample.

    The image's base name without extension, then the ``ref_id`` (left out
    when it equals the image name, as in RefSegRS) and the ``sent_id``,
    joined by ``_``; e.g. ``'12_3'`` for RefSegRS id 12, line 3, or
    ``'COCO_000123_45_67'`` for a refer-style sample.

    Args:
        data_sample (dict | SegDataSample): Carries ``img_path`` and
            optionally ``ref_id`` and ``sent_id``.

    Returns:
        str: The name stem (no extension).
    """
    get = data_sample.get
    img_path = get('img_path', None)
    stem = osp.splitext(osp.basename(str(img_path)))[0] \
        if img_path is not None else 'sample'
    parts = [stem]
    ref_id, sent_id = get('ref_id', None), get('sent_id', None)
    if ref_id is not None and str(ref_id) != stem:
        parts.append(str(ref_id))
    if sent_id is not None:
        parts.append(str(sent_id))
    return '_'.join(parts)


__all__ = ['sample_name']
