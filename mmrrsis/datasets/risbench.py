"""RISBench (CroBIM): 52,472 triplets, 512x512, 26 categories."""
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

from mmrrsis.registry import DATASETS

from .masks import AUTO_THRESHOLD
from .refsegrs import RefSegRSDataset
from .text_utils import RISBENCH_CATEGORIES

__all__ = ['RISBenchDataset', 'RISBENCH_FOLDERS']

#: The image and mask folder names, in the order they are looked for: the
#: layout RSRefSeg2's converter reads (``img_rgb``, ``mask``) and the one a
#: third-party README gives (``images``, ``masks``).
RISBENCH_FOLDERS = (('img_rgb', 'mask'), ('images', 'masks'))


@DATASETS.register_module()
class RISBenchDataset(RefSegRSDataset):
    """RISBench (HIT-SIRS/CroBIM), in the layout its users unpack.

    .. code-block:: none

        RISBench/
          img_rgb/<split>_<img>_<obj>.png   one image file per expression
          mask/<split>_<img>_<obj>.png      its mask, the same name
          output_phrase_train.txt           "<file> <sentence ...>" a line
          output_phrase_val.txt
          output_phrase_test.txt

    (``images/`` and ``masks/`` are read too, as a third-party layout
    names them.) The first field of a line is the file name, extension
    included; the ``<split>`` prefix of a name is not the split (RISBench's
    val lines name ``train_14700_0.png``, as DiCoR's datainfo shows); the
    split is the split file's. ``ref_id`` is the name without extension.

    Masks: their stored values are not documented (0/1 or 0/255); with
    ``mask_threshold='auto'`` (default) each file is read as it is stored:
    0/1 as 1 = target, 0/255 as values above 127.5, never a 255 as
    "ignore" (the doctor counts the files of each kind). A mask that is
    not a two-level mask (a background other than 0, values spread over
    many levels) raises as for RefSegRS (``mask_check``).

    Categories: the first of RISBench's 26 class names the expression
    names (RSRefSeg2's list; plurals match too).

    Everything else as :class:`RefSegRSDataset` (split files in UTF-8,
    CRLF or LF, repeated lines kept and reported, blank lines skipped).

    Args:
        ann_file (str): The split file. Defaults to
            'output_phrase_train.txt'.
        data_prefix (dict, optional): ``img_path`` and ``seg_map_path``
            folders. Defaults to None: ``img_rgb`` / ``mask`` when
            ``<data_root>/img_rgb`` exists, else ``images`` / ``masks``.
        mask_threshold (float | str): Defaults to 'auto'.
        category_names (Sequence[str]): Defaults to RISBench's 26 classes.
        **kwargs: Other arguments of :class:`RefSegRSDataset`.
    """
    DATA_HINT = (
        'RISBench comes with CroBIM (HIT-SIRS/CroBIM on GitHub, a Baidu '
        'Netdisk link in its README); unpack it so that '
        '<data_root>/img_rgb (or images), <data_root>/mask (or masks) and '
        '<data_root>/output_phrase_{train,val,test}.txt exist. For a '
        'generated stand-in in the same layout run: python '
        'tools/dataset_converters/make_synthetic_refsegrs.py <data_root> '
        '--layout risbench')
    CATEGORY_HINT = ('categories are the RISBench class names found in the '
                     'expressions, see category_names')

    def __init__(self,
                 ann_file: str = 'output_phrase_train.txt',
                 data_prefix: Optional[dict] = None,
                 mask_threshold: Union[float, str] = AUTO_THRESHOLD,
                 category_names: Sequence[str] = RISBENCH_CATEGORIES,
                 **kwargs) -> None:
        if data_prefix is None:
            img_dir, mask_dir = self.find_folders(kwargs.get('data_root'))
            data_prefix = dict(img_path=img_dir, seg_map_path=mask_dir)
        kwargs.setdefault('img_suffix', '')
        kwargs.setdefault('seg_map_suffix', '')
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            mask_threshold=mask_threshold,
            category_names=category_names,
            **kwargs)

    @staticmethod
    def find_folders(data_root: Optional[str]) -> Tuple[str, str]:
        """(image folder, mask folder) of a RISBench copy: the first pair
        of :data:`RISBENCH_FOLDERS` whose image folder exists (the first
        pair when none does, so the error names it)."""
        for img_dir, mask_dir in RISBENCH_FOLDERS:
            if data_root and osp.isdir(osp.join(data_root, img_dir)):
                return img_dir, mask_dir
        return RISBENCH_FOLDERS[0]

    @staticmethod
    def ref_id_of(sample_id: str) -> str:
        """The file name without its extension."""
        return osp.splitext(sample_id)[0]
