"""RefSegRS: referring segmentation on SkyScapes aerial tiles."""
import os.path as osp
import re
from collections import defaultdict
from typing import List, Optional, Sequence

from mmengine import fileio

from mmrrsis.registry import DATASETS

from .base_referring_dataset import (
    REFERRING_METAINFO,
    BaseReferringDataset,
    ReferringDatasetMixin,
)
from .file_checks import read_split_text
from .generated import GeneratedOnFirstUse
from .text_utils import REFSEGRS_CATEGORIES, find_category
from .transforms.loading import check_choice

__all__ = [
    'REFERRING_METAINFO', 'ReferringDatasetMixin', 'RefSegRSDataset',
    'SyntheticRefSegRSDataset'
]

#: What :class:`RefSegRSDataset` does with repeated lines of a split file.
DUPLICATE_LINE_POLICIES = ('keep', 'drop')
#: The threshold of RefSegRS' authors: their loader keeps mask values > 50.
REFSEGRS_MASK_THRESHOLD = 50


@DATASETS.register_module()
class RefSegRSDataset(BaseReferringDataset):
    """RefSegRS, in its official layout.

    .. code-block:: none

        RefSegRS/
          images/<id>.tif           RGB image, 512x512
          masks/<id>.tif            target mask, one channel, 0/255
          output_phrase_train.txt   "<id> <expression words>" a line
          output_phrase_val.txt
          output_phrase_test.txt

    Every non-blank line of the split file is one sample (the same image
    can appear under several ids, with different expressions and masks).
    The expression is the rest of the line after the id, whitespace
    normalised. Split files are read as UTF-8 (a byte order mark is
    dropped; another encoding fails naming the file and line); CRLF and LF
    line ends alike. A line repeated verbatim (same id and expression) is
    reported in one warning and kept (``duplicate_lines='keep'``, so the
    split has its published size) or dropped (``'drop'``). A line without
    an expression raises an error naming the file and the line.

    Masks: the binarisation rule is the authors' (their dataset class
    keeps ``cv2.imread(mask, 2) > 50``): values above ``mask_threshold=50``
    are target. The masks are stored 0/255, some with a thin anti-aliased
    edge, which the rule reads as the authors do. A mask the rule would
    read wrongly (a 0/1 mask, which ``> 50`` would make empty; several
    channels with different content; values spread over many levels)
    raises naming the file and the values (``mask_check='strict'``), or is
    read anyway and counted in a warning (``'lenient'``; a 0/1 mask is then
    read as 1 = target). See
    :class:`~mmrrsis.datasets.BaseReferringDataset` for the sample keys
    and the checks made when the dataset is built.

    Each sample holds ``img_path``, ``seg_map_path``, ``text``, ``ref_id``
    (the id as written, a str), ``sent_id`` (the 0-based index of the
    sample in the split file), ``category`` (the class the expression
    names, see :func:`~mmrrsis.datasets.text_utils.find_category`, or
    None), ``split`` (``'train'`` for ``output_phrase_train.txt``),
    ``source`` (``'<split file>:<line number>'``) and the loading rules.

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
        mask_threshold (float): Mask values strictly above it are target.
            Defaults to 50 (the authors' rule).
        duplicate_lines (str): ``'keep'`` or ``'drop'`` lines repeated
            verbatim. Defaults to 'keep'.
        **kwargs: Other arguments of
            :class:`~mmrrsis.datasets.BaseReferringDataset` (``mask_check``,
            ``size_mismatch``, ``check_files``) and of
            :class:`~mmseg.datasets.BaseSegDataset` (``data_root``,
            ``pipeline``, ``test_mode``, ...).
    """
    DATA_HINT = (
        'RefSegRS comes from the RRSIS authors (zhu-xlab/rrsis on GitHub); '
        'unpack it so that <data_root>/images, <data_root>/masks and '
        '<data_root>/output_phrase_{train,val,test}.txt exist. For a '
        'generated stand-in in the same layout run: python '
        'tools/dataset_converters/make_synthetic_refsegrs.py <data_root> '
        '(or use the dataset type SyntheticRefSegRSDataset). To train on '
        'generated data right away, with no download: python '
        'tools/train.py configs/lgce_synthetic.py')
    CATEGORY_HINT = ('categories are the class names found in the '
                     'expressions, see category_names')

    def __init__(self,
                 ann_file: str = 'output_phrase_train.txt',
                 data_prefix: Optional[dict] = None,
                 img_suffix: str = '.tif',
                 seg_map_suffix: str = '.tif',
                 category_names: Sequence[str] = REFSEGRS_CATEGORIES,
                 mask_threshold: float = REFSEGRS_MASK_THRESHOLD,
                 duplicate_lines: str = 'keep',
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='images', seg_map_path='masks')
        check_choice('duplicate_lines', duplicate_lines,
                     DUPLICATE_LINE_POLICIES)
        self.category_names = tuple(category_names)
        self.duplicate_lines = duplicate_lines
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            mask_threshold=mask_threshold,
            **kwargs)

    def _exists(self, path: str) -> bool:
        return fileio.exists(path, backend_args=self.backend_args)

    @property
    def split_name(self) -> str:
        """The split of the split file: ``'val'`` for
        ``output_phrase_val.txt``, else the file's stem."""
        name = osp.basename(str(self.ann_file))
        match = re.fullmatch(r'output_phrase_(.+)\.txt', name)
        return match.group(1) if match else osp.splitext(name)[0]

    def read_annotations(self) -> List[dict]:
        """Read the split file into one sample per line.

        Returns:
            list[dict]: The samples, in file order.
        """
        if not self.ann_file or not self._exists(self.ann_file):
            raise FileNotFoundError(
                f'RefSegRS split file not found: {self.ann_file!r}')
        img_dir = self.data_prefix.get('img_path') or ''
        mask_dir = self.data_prefix.get('seg_map_path') or ''
        text = read_split_text(self.ann_file, self.backend_args)
        name = osp.basename(self.ann_file)
        seen = defaultdict(list)  # line -> line numbers
        data_list = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            fields = line.split(maxsplit=1)
            source = f'{self.ann_file}:{lineno}'
            if not fields:  # skipped, as every peer's loader does
                self.record('blank_line', f'{name} line {lineno} is blank '
                            '(skipped)', source)
                continue
            if len(fields) == 1:
                self.report_problem(
                    'bad_line', f'{name} line {lineno} has the id '
                    f'{fields[0]!r} but no expression ({source}: '
                    f'{line.strip()!r}); expected "<id> <expression>"',
                    source)
                continue
            sample_id, expression = fields[0], ' '.join(fields[1].split())
            seen[(sample_id, expression)].append(lineno)
            if (self.duplicate_lines == 'drop'
                    and len(seen[(sample_id, expression)]) > 1):
                continue
            data_list.append(
                dict(
                    img_path=osp.join(img_dir, sample_id + self.img_suffix),
                    seg_map_path=osp.join(mask_dir,
                                          sample_id + self.seg_map_suffix),
                    text=expression,
                    ref_id=self.ref_id_of(sample_id),
                    sent_id=len(data_list),
                    category=find_category(expression,
                                           self.category_names),
                    split=self.split_name,
                    source=source))
        self._report_duplicates(name, seen)
        return data_list

    @staticmethod
    def ref_id_of(sample_id: str) -> str:
        """The ``ref_id`` of a line's first field (RefSegRS: the id)."""
        return sample_id

    def _report_duplicates(self, name: str, seen: dict) -> None:
        repeated = [lines for lines in seen.values() if len(lines) > 1]
        done = ('kept, as the published split counts them'
                if self.duplicate_lines == 'keep' else 'dropped')
        for (sample_id, text), lines in seen.items():
            if len(lines) > 1:
                self.record(
                    'duplicate_line', f'{name} lines '
                    f'{"/".join(map(str, lines))} repeat {sample_id} '
                    f'{text!r} verbatim ({done})',
                    f'{self.ann_file}:{lines[1]}')
        if not repeated:
            return
        extra = sum(len(lines) - 1 for lines in repeated)
        examples = ', '.join(
            'lines ' + '/'.join(map(str, lines)) for lines in repeated[:3])
        self.warn(f'{name}: {extra} line(s) repeat an earlier line verbatim '
                  f'(same id and expression; {examples}): {done} '
                  f"(duplicate_lines='{self.duplicate_lines}').")

    def _check_files(self, data_list: List[dict]) -> List[dict]:
        """Name both files when a RefSegRS id has neither."""
        with_files = []
        for info in data_list:
            if (self._exists(info['img_path'])
                    or self._exists(info['seg_map_path'])):
                with_files.append(info)
                continue
            self.note_missing_image(info)
            self.report_problem(
                'missing_file', f'The id {info["ref_id"]!r} of '
                f'{info["source"]} has no files: neither the image '
                f'{info["img_path"]} nor the mask {info["seg_map_path"]} '
                'exists', info['source'], FileNotFoundError)
        return super()._check_files(with_files)


@DATASETS.register_module()
class SyntheticRefSegRSDataset(GeneratedOnFirstUse, RefSegRSDataset):
    """:class:`RefSegRSDataset` on generated data, created when missing.

    When the split file is not under ``data_root`` yet, the whole set
    (all three splits) is generated there first with
    :func:`~mmrrsis.datasets.synthetic.make_synthetic_refsegrs`, so a
    config runs out of the box (see
    :class:`~mmrrsis.datasets.generated.GeneratedOnFirstUse` for how ranks
    and concurrent processes share the work). An existing set is used as
    it is, whatever arguments made it. To generate as an explicit step
    instead, run ``tools/dataset_converters/make_synthetic_refsegrs.py``.

    Args:
        **kwargs: ``num_images`` (default 200), ``size`` (512), ``seed``
            (0), ``split_ratios`` ((0.7, 0.15, 0.15)) of the generator and
            the arguments of :class:`RefSegRSDataset`; ``data_root`` is
            required.
    """

    def write_data(self, root: str) -> None:
        """Generate the whole set into ``root``."""
        from .synthetic import make_synthetic_refsegrs
        make_synthetic_refsegrs(
            root,
            num_images=self.num_images,
            size=self.size,
            seed=self.seed,
            split_ratios=self.split_ratios)
