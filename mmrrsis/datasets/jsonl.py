"""The datainfo JSON lines of RSRefSeg2 and DiCoR, read over any image
root."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

from mmengine import fileio

from mmrrsis.registry import DATASETS

from .base_referring_dataset import BaseReferringDataset
from .file_checks import read_split_text
from .masks import AUTO_THRESHOLD, segmentation_size
from .refsegrs import REFSEGRS_MASK_THRESHOLD
from .risbench import RISBenchDataset
from .text_utils import REFSEGRS_CATEGORIES, RISBENCH_CATEGORIES, find_category
from .transforms.loading import check_choice

__all__ = ['JSONLReferringDataset', 'JSONL_DATASETS', 'DICOR_EXCLUDED']

#: The datasets the datainfo files exist for: the image folder under the
#: data root (as DiCoR's loader joins it), the class names an
#: expression's category is looked up in (None: the line's
#: ``category_name``) and the rule of the dataset's own mask files (for the
#: doctor's comparison of the RLEs with them).
JSONL_DATASETS: Dict[str, dict] = dict(
    refsegrs=dict(img_path='images', categories=REFSEGRS_CATEGORIES,
                  mask_threshold=REFSEGRS_MASK_THRESHOLD),
    rrsisd=dict(img_path='images/rrsisd/JPEGImages', categories=None,
                mask_threshold=None),
    risbench=dict(img_path='img_rgb', categories=RISBENCH_CATEGORIES,
                  mask_threshold=AUTO_THRESHOLD),
)

#: The image files DiCoR's loader (``data/refdataset.py``) leaves out of
#: every split of every dataset (``exclude_files='dicor'``): 27 RRSIS-D
#: images and 16 RISBench files.
DICOR_EXCLUDED = (
    '22187.jpg', '20203.jpg', '00413.jpg', '01072.jpg', '01664.jpg',
    '03661.jpg', '05125.jpg', '06728.jpg', '06861.jpg', '09319.jpg',
    '10579.jpg', '10653.jpg', '11147.jpg', '11898.jpg', '12492.jpg',
    '12630.jpg', '14464.jpg', '14915.jpg', '15357.jpg', '15584.jpg',
    '15737.jpg', '17068.jpg', '18552.jpg', '18845.jpg', '20235.jpg',
    '21126.jpg', '07239.jpg', 'train_12443_2.png', 'train_11904_8.png',
    'train_11818_2.png', 'train_11785_0.png', 'train_11021_1.png',
    'train_10698_0.png', 'train_10222_0.png', 'train_9598_7.png',
    'train_9405_1.png', 'train_8518_1.png', 'train_7581_3.png',
    'train_7222_1.png', 'train_7008_0.png', 'train_6194_0.png',
    'train_6194_1.png', 'train_819_1.png')
#: Named exclusion lists of ``exclude_files``.
EXCLUDE_PRESETS = dict(dicor=DICOR_EXCLUDED)
#: Fields every line must have.
REQUIRED_FIELDS = ('file_name', 'sent', 'segmentation')


@DATASETS.register_module()
class JSONLReferringDataset(BaseReferringDataset):
    """RefSegRS, RRSIS-D or RISBench from a datainfo JSON lines file.

    RSRefSeg2 ships converters (and DiCoR the files) that turn each split
    into ``datainfo/<dataset>_<split>.jsonl``, one sample a line:

    .. code-block:: none

        {"split": "val", "image_id": "4497", "sent": "vehicle driving on
         the road", "file_name": "4497.tif",
         "segmentation": {"size": [512, 512], "counts": "..."}}

    RefSegRS and RISBench lines hold the mask as one compressed RLE (str
    ``counts``) of the stored mask file; RRSIS-D lines hold the
    annotation's list of one RLE, plus ``category_id``,
    ``category_name``, ``ann_id``, ``bbox`` and ``area``; the sentence is
    the ref's first (RRSIS-D's refs have one each). Users of those repos
    keep the files under ``<data_root>/datainfo/``, the default here
    (DiCoR looks in ``./datainfo/`` first, then there; give an absolute
    ``ann_file`` for a file elsewhere).

    Samples are read as DiCoR's ``data/refdataset.py`` reads them: in file
    order, blank lines skipped; the mask is the RLE decoded (the first of
    a list; a list with more parts is counted in a warning, since DiCoR
    and RSRefSeg2 read only the first), 1 = target; the image is
    ``<data_root>/<image folder>/<file_name>``. DiCoR also leaves 43 files
    out of every split (``exclude_files='dicor'``); by default nothing is
    left out, so a split has its published size.

    The RLE is decoded at its own ``size``; an image of another size is
    put on the mask's grid by the ``size_mismatch`` policy (RSRefSeg2
    resizes the mask to the image instead). Note that RSRefSeg2's
    converter encodes the stored mask values: a mask file with values
    other than 0 and one target value (a soft edge) gives runs that decode
    to stripes; compare with the mask files (the doctor does, when the
    mask folder is given as ``data_prefix['seg_map_path']``).

    Each sample holds ``img_path``, ``segmentation`` with ``height`` /
    ``width`` (the RLE's size), ``text`` (``sent``), ``ref_id``
    (``ann_id`` when the line has one, else ``image_id``), ``image_id``,
    ``sent_id`` (the sample's index in the file), ``category`` (the
    line's ``category_name``, else the class the expression names),
    ``split`` (the line's, else the dataset's), ``source`` (``'<file>:<line
    number>'``) and, when ``data_prefix['seg_map_path']`` is set,
    ``mask_file`` (the stored mask, for the doctor's comparison).

    Args:
        dataset (str): ``'refsegrs'``, ``'rrsisd'`` or ``'risbench'``
            (:data:`JSONL_DATASETS`). Defaults to 'refsegrs'.
        split (str): Defaults to 'train'.
        ann_file (str, optional): The JSON lines file, relative to
            ``data_root``. Defaults to None:
            ``datainfo/<dataset>_<split>.jsonl``.
        data_prefix (dict, optional): ``img_path``: the image folder;
            ``seg_map_path`` (optional): the mask folder of RefSegRS /
            RISBench, only for the doctor. Defaults to None: the dataset's
            image folder (RISBench: ``img_rgb``, else ``images``).
        exclude_files (Sequence[str] | str): File names left out, or
            ``'dicor'`` for DiCoR's list (:data:`DICOR_EXCLUDED`).
            Defaults to ().
        category_names (Sequence[str], optional): Class names looked up in
            the expression when a line has no ``category_name``. Defaults
            to None: the dataset's.
        **kwargs: Other arguments of
            :class:`~mmrrsis.datasets.BaseReferringDataset` and
            :class:`~mmseg.datasets.BaseSegDataset`.
    """
    DATA_HINT = (
        'The datainfo JSON lines come with RSRefSeg2 (KyanChen/RSRefSeg2, '
        'tools_RSRefSeg2/data_tools/*-convert_data_to_jsonl.py write them '
        'from a dataset copy) and DiCoR; put them in <data_root>/datainfo/ '
        'and the images in the dataset\'s image folder under data_root, or '
        'set ann_file / data_prefix.')
    CATEGORY_HINT = ('no line has category_name and no expression names a '
                     'class of category_names')

    def __init__(self,
                 dataset: str = 'refsegrs',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 exclude_files: Union[Sequence[str], str] = (),
                 category_names: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        check_choice('dataset', dataset, tuple(JSONL_DATASETS))
        self.dataset_name = dataset
        self.split = split
        spec = JSONL_DATASETS[dataset]
        if ann_file is None:
            ann_file = osp.join('datainfo', f'{dataset}_{split}.jsonl')
        if data_prefix is None:
            img_dir = spec['img_path']
            if dataset == 'risbench':
                img_dir = RISBenchDataset.find_folders(
                    kwargs.get('data_root'))[0]
            data_prefix = dict(img_path=img_dir)
        if isinstance(exclude_files, str):
            check_choice('exclude_files', exclude_files,
                         tuple(EXCLUDE_PRESETS))
            exclude_files = EXCLUDE_PRESETS[exclude_files]
        self.exclude_files = frozenset(exclude_files)
        self.category_names = tuple(category_names or spec['categories']
                                    or ())
        kwargs.setdefault('img_suffix', '')
        super().__init__(ann_file=ann_file, data_prefix=data_prefix,
                         **kwargs)

    def read_annotations(self) -> List[dict]:
        """Read the JSON lines into one sample a line.

        Returns:
            list[dict]: The samples, in file order.
        """
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'JSON lines file not found: {self.ann_file!r}')
        text = read_split_text(self.ann_file, self.backend_args)
        name = osp.basename(self.ann_file)
        img_dir = self.data_prefix.get('img_path') or ''
        mask_dir = self.data_prefix.get('seg_map_path')
        data_list, several_parts, excluded = [], [], 0
        for lineno, line in enumerate(text.splitlines(), start=1):
            source = f'{self.ann_file}:{lineno}'
            if not line.strip():
                self.record('blank_line', f'{name} line {lineno} is blank '
                            '(skipped)', source)
                continue
            item = self._parse(line, name, lineno, source)
            if item is None:
                continue  # reported
            if item['file_name'] in self.exclude_files:
                excluded += 1
                continue
            seg = item['segmentation']
            if isinstance(seg, list):
                if len(seg) > 1:
                    several_parts.append(source)
                seg = seg[0] if seg else seg
            try:
                if not isinstance(seg, dict):
                    raise TypeError(f'got {type(seg).__name__}')
                height, width = segmentation_size(seg, 0, 0)
            except (KeyError, TypeError, ValueError) as e:
                self.report_problem(
                    'bad_line', f'{name} line {lineno}: the segmentation '
                    f'is no RLE dict with size and counts ({e})', source)
                continue
            ref_id = item.get('ann_id', item.get('image_id'))
            info = dict(
                img_path=osp.join(img_dir, item['file_name']),
                seg_map_path=None,
                segmentation=seg,
                height=height,
                width=width,
                text=item['sent'],
                ref_id=None if ref_id is None else str(ref_id),
                image_id=item.get('image_id'),
                sent_id=len(data_list),
                category=item.get('category_name') or find_category(
                    item['sent'], self.category_names),
                category_id=item.get('category_id'),
                split=item.get('split') or self.split,
                source=source)
            if mask_dir is not None:
                info['mask_file'] = osp.join(mask_dir, item['file_name'])
                info['mask_file_threshold'] = JSONL_DATASETS[
                    self.dataset_name]['mask_threshold']
            data_list.append(info)
        if several_parts:
            self.warn(f'{name}: {len(several_parts)} line(s) hold a list of '
                      'several RLEs; the first is read, as DiCoR and '
                      f'RSRefSeg2 do (e.g. {several_parts[0]})')
        self.excluded = excluded
        return data_list

    def _parse(self, line: str, name: str, lineno: int,
               source: str) -> Optional[dict]:
        """One line as a dict, or None after a reported problem."""
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            self.report_problem(
                'bad_line', f'{name} line {lineno} is not JSON ({e.msg} at '
                f'column {e.colno}): {line[:80]!r}', source)
            return None
        missing = [k for k in REQUIRED_FIELDS
                   if not isinstance(item, dict) or k not in item]
        if missing:
            self.report_problem(
                'bad_line', f'{name} line {lineno} has no {missing} '
                f'field(s); a datainfo line has {list(REQUIRED_FIELDS)}',
                source)
            return None
        return item
