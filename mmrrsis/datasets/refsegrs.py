"""RefSegRS: referring segmentation on SkyScapes aerial tiles."""
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine import fileio
from mmseg.datasets import BaseSegDataset

from mmrrsis.registry import DATASETS

from .text_utils import REFSEGRS_CATEGORIES, find_category

#: Metainfo shared by every referring dataset: a binary segmentation task.
REFERRING_METAINFO = dict(
    classes=('background', 'target'), palette=[[0, 0, 0], [255, 0, 0]])


class ReferringDatasetMixin:
    """What every referring dataset does the same way.

    Errors raised while a sample goes through the pipeline get a note
    naming the sample (its id and the annotation line it comes from), so a
    bad file is easy to find in a dataset of thousands.
    """

    def prepare_data(self, idx: int):
        """Run the pipeline on sample ``idx``; errors name the sample."""
        try:
            return super().prepare_data(idx)
        except Exception as e:
            if hasattr(e, 'add_note'):  # Python >= 3.11
                info = self.get_data_info(idx)
                where = ', '.join(
                    f'{k}={info[k]!r}'
                    for k in ('ref_id', 'sent_id', 'img_path', 'source')
                    if info.get(k) is not None)
                e.add_note(f'while loading sample {idx} of '
                           f'{type(self).__name__} ({where})')
            raise


@DATASETS.register_module()
class RefSegRSDataset(ReferringDatasetMixin, BaseSegDataset):
    """RefSegRS, in its official layout.

    .. code-block:: none

        RefSegRS/
          images/<id>.tif           RGB image
          masks/<id>.tif            target mask (0/1 or 0/255)
          output_phrase_train.txt   "<id> <expression words>" a line
          output_phrase_val.txt
          output_phrase_test.txt

    Every non-blank line of the split file is one sample (the same image
    can appear under several ids, with different expressions and masks).
    The expression is the rest of the line after the id, whitespace
    normalised. Files are checked when the dataset is built: a missing
    image or mask, or a line without an expression, raises an error naming
    the file and the line.

    Each data info holds ``img_path``, ``seg_map_path``, ``text``,
    ``ref_id`` (the id as written, a str), ``sent_id`` (the 0-based index
    of the sample in the split file), ``category`` (the class the
    expression names, see :func:`~mmrrsis.datasets.text_utils.find_category`,
    or None), ``source`` (``'<split file>:<line number>'``),
    ``seg_fields=[]``, ``reduce_zero_label=False`` and ``label_map``.

    Args:
        ann_file (str): The split file, relative to ``data_root``. Defaults
            to 'output_phrase_train.txt'.
        data_prefix (dict): Folders of images (``img_path``) and masks
            (``seg_map_path``). Defaults to
            ``dict(img_path='images', seg_map_path='masks')``.
        img_suffix (str): Defaults to '.tif'.
        seg_map_suffix (str): Defaults to '.tif'.
        category_names (Sequence[str]): Class names searched in the
            expression. Defaults to RefSegRS' 14 classes.
        check_files (bool): Check that every image and mask exists when
            the dataset is built. Defaults to True.
        **kwargs: Other arguments of :class:`~mmseg.datasets.BaseSegDataset`
            (``data_root``, ``pipeline``, ``test_mode``, ...).
    """
    METAINFO = REFERRING_METAINFO
    DATA_HINT = (
        'RefSegRS comes from the RRSIS authors (zhu-xlab/rrsis on GitHub); '
        'unpack it so that <data_root>/images, <data_root>/masks and '
        '<data_root>/output_phrase_{train,val,test}.txt exist. For a '
        'generated stand-in in the same layout run: python '
        'tools/dataset_converters/make_synthetic_refsegrs.py <data_root> '
        '(or use the dataset type SyntheticRefSegRSDataset). To train on '
        'generated data right away, with no download: python '
        'tools/train.py configs/lgce_synthetic.py')

    def __init__(self,
                 ann_file: str = 'output_phrase_train.txt',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.tif',
                 seg_map_suffix: str = '.tif',
                 category_names: Sequence[str] = REFSEGRS_CATEGORIES,
                 check_files: bool = True,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='images', seg_map_path='masks')
        self.category_names = tuple(category_names)
        self.check_files = check_files
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)

    def load_data_list(self) -> List[dict]:
        """Read the split file into one data info per line.

        Returns:
            list[dict]: The data infos, in file order.
        """
        if not self.ann_file or not self._exists(self.ann_file):
            raise FileNotFoundError(
                f'RefSegRS split file not found: {self.ann_file!r}')
        img_dir = self.data_prefix.get('img_path') or ''
        mask_dir = self.data_prefix.get('seg_map_path') or ''
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        name = osp.basename(self.ann_file)
        data_list = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            fields = line.split(maxsplit=1)
            if not fields:
                continue  # blank line
            source = f'{self.ann_file}:{lineno}'
            if len(fields) == 1:
                raise ValueError(
                    f'{name} line {lineno} has the id {fields[0]!r} but no '
                    f'expression ({source}: {line.strip()!r}); expected '
                    '"<id> <expression>"')
            sample_id, expression = fields[0], ' '.join(fields[1].split())
            img_path = osp.join(img_dir, sample_id + self.img_suffix)
            seg_map_path = osp.join(mask_dir,
                                    sample_id + self.seg_map_suffix)
            if self.check_files:
                self._check_pair(sample_id, img_path, seg_map_path, source)
            data_list.append(
                dict(
                    img_path=img_path,
                    seg_map_path=seg_map_path,
                    text=expression,
                    ref_id=sample_id,
                    sent_id=len(data_list),
                    category=find_category(expression,
                                           self.category_names),
                    source=source,
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        return data_list

    def _check_pair(self, sample_id: str, img_path: str, seg_map_path: str,
                    source: str) -> None:
        has_img = self._exists(img_path)
        has_mask = self._exists(seg_map_path)
        if not has_img and not has_mask:
            raise FileNotFoundError(
                f'The id {sample_id!r} of {source} has no files: neither '
                f'the image {img_path} nor the mask {seg_map_path} exists')
        if not has_img:
            raise FileNotFoundError(
                f'Image not found: {img_path} (id {sample_id!r}, {source})')
        if not has_mask:
            raise FileNotFoundError(f'Mask not found: {seg_map_path} (id '
                                    f'{sample_id!r}, {source})')


@DATASETS.register_module()
class SyntheticRefSegRSDataset(RefSegRSDataset):
    """:class:`RefSegRSDataset` on generated data, created when missing.

    When the split file is not under ``data_root`` yet, the whole set
    (all three splits) is generated there first with
    :func:`~mmrrsis.datasets.synthetic.make_synthetic_refsegrs`, so a
    config runs out of the box. The set is written to a temporary sibling
    folder and renamed into place, so processes that build the dataset at
    the same time (distributed training) do not read half-written files.
    An existing set is used as it is, whatever arguments made it.

    Args:
        num_images (int): Distinct images to generate. Defaults to 200.
        size (int): Image side in pixels. Defaults to 512.
        seed (int): Generator seed. Defaults to 0.
        split_ratios (Sequence[float]): Train, val, test proportions.
            Defaults to (0.7, 0.15, 0.15).
        **kwargs: Arguments of :class:`RefSegRSDataset`; ``data_root`` is
            required.
    """
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

    def load_data_list(self) -> List[dict]:
        """Generate the data if needed, then read the split file."""
        if not osp.isfile(self.ann_file):
            self._generate()
        return super().load_data_list()

    def _generate(self) -> None:
        import shutil
        import tempfile

        from .synthetic import make_synthetic_refsegrs
        if not self.data_root:
            raise ValueError('SyntheticRefSegRSDataset needs a data_root to '
                             'generate its data in')
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
            make_synthetic_refsegrs(
                tmp,
                num_images=self.num_images,
                size=self.size,
                seed=self.seed,
                split_ratios=self.split_ratios)
            try:
                os.rename(tmp, root)  # atomic; replaces an empty folder
            except OSError:
                if not osp.isfile(self.ann_file):  # nobody else made it
                    raise
        finally:
            if osp.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
