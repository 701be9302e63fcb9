"""The contract of a referring segmentation dataset.

Every referring dataset of mmrrsis (RefSegRS, the refer-format RRSIS-D /
RefCOCO family, the generated sets) derives from
:class:`BaseReferringDataset`, which says once what a sample is, how the
datasets' quirks are read and what is checked when a dataset is built.
"""
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

from mmseg.datasets import BaseSegDataset

from .file_checks import read_image_size
from .masks import (
    POLYGON_OVERLAPS,
    describe_soft_edges,
    read_mask_file,
    soft_edge_pixels,
)
from .transforms.loading import (
    MASK_CHECKS,
    SIZE_MISMATCH_POLICIES,
    check_choice,
)

#: Metainfo shared by every referring dataset: a binary segmentation task.
REFERRING_METAINFO = dict(
    classes=('background', 'target'), palette=[[0, 0, 0], [255, 0, 0]])

#: How the sentences of a reference become samples.
TEXT_MODES = ('all', 'random')

#: The keys of the loading rules each sample carries (see the class doc).
RULE_KEYS = ('mask_threshold', 'mask_check', 'polygon_overlap',
             'size_mismatch')


class BaseReferringDataset(BaseSegDataset):
    """Base class of referring datasets: one sample per (image, expression).

    **A sample** (``get_data_info(i)``) is a dict with:

    - ``img_path`` (str): the image;
    - the target mask, from one of two sources: ``seg_map_path`` (str, a
      mask file, RefSegRS), or ``seg_map_path=None`` with
      ``segmentation`` (COCO polygons or RLE), ``height`` and ``width``
      (the mask's grid, refer datasets);
    - ``text`` (str): the expression; or, for a reference whose sentences
      are sampled (``text_mode='random'``), ``text=None`` with ``texts``
      (list[str]) and ``sent_ids``, from which
      :class:`~mmrrsis.datasets.transforms.RandomSentence` draws one each
      time the sample is loaded;
    - ``ref_id`` (the reference, as the annotation names it), ``sent_id``
      (the sentence; None in random mode), ``category`` (str or None: the
      class of the target, for per-category metrics), ``split`` (str or
      None: the split the sample belongs to, e.g. ``'testA'``, which the
      metric uses to score several splits of one run apart) and
      ``source`` (str: the annotation file and line or id, for messages);
    - the loading rules, read by
      :class:`~mmrrsis.datasets.transforms.LoadReferringAnnotations`:
      ``mask_threshold`` (mask files: values above it are target),
      ``mask_check`` (``'strict'``: a mask the rule would read wrongly
      raises; ``'lenient'``: read anyway, counted in a warning),
      ``polygon_overlap`` (``'union'`` or the refer API's ``'refer'``)
      and ``size_mismatch`` (``'resample'`` the image to the mask's grid,
      or ``'error'``);
    - mmseg's ``seg_fields``, ``reduce_zero_label`` and ``label_map``.

    **Metainfo**: two classes, ``('background', 'target')``: the mask is
    0 (background) or 1 (the referred target).

    **Several sentences per reference**: with ``text_mode='all'``
    (evaluation) every sentence is its own sample; with ``'random'``
    (training, as LAVT) a reference is one sample and a sentence is drawn
    each time it is loaded (:meth:`expand_sentences`).

    **Checks when the dataset is built** (``check_files=True``): every
    image's header is read (not its pixels), so a missing, 0-byte or
    unreadable image, or a directory in its place, fails now with the file
    named, not at iteration 3 of a run; mask files are checked the same
    way. The image size is compared with the mask's: samples whose sizes
    differ are counted and, with ``size_mismatch='resample'``, reported in
    one warning; with ``'error'`` the build fails listing them. Mask files
    are decoded once to count soft edges (values between background and
    target, which ``mask_threshold`` reads one way or the other): one
    warning says how many masks and pixels, and how many of those pixels
    are read as target (:attr:`soft_edges`). A split in
    which no sample has a category is reported (per-category metrics would
    silently be empty). Reading every pixel of every file is the dataset
    doctor's job (``tools/dataset_converters/check_dataset.py``).

    **Errors** raised while a sample goes through the pipeline get a note
    naming the sample (its id and the annotation line it comes from).

    A new dataset implements :meth:`read_annotations` (parse the files into
    samples, reporting bad entries with :meth:`report_problem`); this class
    adds the rules and runs the checks.

    Args:
        mask_threshold (float): Stored mask values strictly above it are
            target. Defaults to 0.
        mask_check (str): ``'strict'`` or ``'lenient'``. Defaults to
            'strict'.
        polygon_overlap (str): ``'union'`` or ``'refer'``. Defaults to
            'union'.
        size_mismatch (str): ``'resample'`` or ``'error'``. Defaults to
            'resample'.
        check_files (bool): Check the files' headers when the dataset is
            built. Defaults to True.
        collect_problems (bool): For the dataset doctor: record problems in
            :attr:`problems` and leave the affected samples out instead of
            raising, and warn about nothing (the doctor reports it all).
            Defaults to False.
        **kwargs: Arguments of :class:`~mmseg.datasets.BaseSegDataset`
            (``ann_file``, ``data_root``, ``data_prefix``, ``pipeline``,
            ...).
    """
    METAINFO = REFERRING_METAINFO

    def __init__(self,
                 mask_threshold: float = 0,
                 mask_check: str = 'strict',
                 polygon_overlap: str = 'union',
                 size_mismatch: str = 'resample',
                 check_files: bool = True,
                 collect_problems: bool = False,
                 **kwargs) -> None:
        check_choice('mask_check', mask_check, MASK_CHECKS)
        check_choice('polygon_overlap', polygon_overlap, POLYGON_OVERLAPS)
        check_choice('size_mismatch', size_mismatch, SIZE_MISMATCH_POLICIES)
        self.rules = dict(
            mask_threshold=mask_threshold,
            mask_check=mask_check,
            polygon_overlap=polygon_overlap,
            size_mismatch=size_mismatch)
        self.check_files = check_files
        self.collect_problems = collect_problems
        #: Problems found while building (``collect_problems=True``): dicts
        #: with ``kind``, ``message`` and ``where``.
        self.problems: List[dict] = []
        #: Samples whose image size differs from the mask's, found by the
        #: file check: dicts with ``where``, ``img_hw`` and ``mask_hw``.
        self.size_mismatches: List[dict] = []
        #: Soft edges of the mask files, counted by the file check:
        #: ``masks`` (files read), ``soft`` (files with a soft edge),
        #: ``pixels`` (soft-edge pixels), ``as_target`` (of those, read as
        #: target by ``mask_threshold``), ``examples`` (a few files).
        self.soft_edges = dict(masks=0, soft=0, pixels=0, as_target=0,
                               examples=[])
        self._soft_edge_files: set = set()
        super().__init__(**kwargs)

    # ----------------------------------------------------------- building --

    def read_annotations(self) -> List[dict]:
        """Parse the annotation files into samples (see the class doc).

        Returns:
            list[dict]: The samples, without the loading rules and mmseg's
            keys (:meth:`load_data_list` adds them).
        """
        raise NotImplementedError

    def load_data_list(self) -> List[dict]:
        """Read the annotations, add the rules and check the files.

        Returns:
            list[dict]: The samples.
        """
        data_list = self.read_annotations()
        for info in data_list:
            info.update(self.rules)
            info.setdefault('split', None)
            info.update(
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
        if self.check_files:
            data_list = self._check_files(data_list)
        if data_list and all(info.get('category') is None
                             for info in data_list):
            self.warn(f'No sample of {self._name()} has a category '
                      f'({self.CATEGORY_HINT}): per-category metrics will '
                      'be empty.')
        return data_list

    #: Where a dataset's categories come from, for the warning above.
    CATEGORY_HINT = 'the category is None everywhere'

    def report_problem(self,
                       kind: str,
                       message: str,
                       where: str = '',
                       error: type = ValueError) -> None:
        """Raise ``error(message)``, or record it under ``kind``.

        Args:
            kind (str): A short name of the problem (``'missing_file'``,
                ``'missing_annotation'``, ...).
            message (str): What is wrong, naming the file, line or id.
            where (str): The sample or file concerned. Defaults to ''.
            error (type): The exception class raised. Defaults to
                ValueError.
        """
        if not self.collect_problems:
            raise error(message)
        self.problems.append(dict(kind=kind, message=message, where=where))

    def warn(self, message: str) -> None:
        """Warn about the data, unless the doctor collects problems."""
        if not self.collect_problems:
            warnings.warn(message, stacklevel=2)

    @staticmethod
    def expand_sentences(base: dict, texts: Sequence[str],
                         sent_ids: Sequence, text_mode: str) -> List[dict]:
        """The samples of one reference with several sentences.

        Args:
            base (dict): The reference's sample keys (image, mask, ids).
            texts (Sequence[str]): Its sentences.
            sent_ids (Sequence): Their ids.
            text_mode (str): ``'all'``: one sample per sentence with
                ``text`` and ``sent_id``; ``'random'``: one sample with
                ``texts`` and ``sent_ids`` (``text=None``).

        Returns:
            list[dict]: The samples.
        """
        check_choice('text_mode', text_mode, TEXT_MODES)
        if text_mode == 'random':
            return [
                dict(base, text=None, sent_id=None, texts=list(texts),
                     sent_ids=list(sent_ids))
            ]
        return [
            dict(base, text=text, sent_id=sent_id)
            for text, sent_id in zip(texts, sent_ids)
        ]

    def _name(self) -> str:
        split = getattr(self, 'splits', None)
        where = (f'split {"+".join(split)}' if split else
                 osp.basename(str(self.ann_file)))
        return f'{type(self).__name__} ({where})'

    # -------------------------------------------------------- file checks --

    def _file_size(self, path: str, what: str, where: str,
                   cache: Dict[str, Optional[Tuple[int, int]]]
                   ) -> Optional[Tuple[int, int]]:
        """(h, w) of a file from its header; None after a reported
        problem. Each path is read once."""
        if path in cache:
            return cache[path]
        size = None
        try:
            size = read_image_size(path, self.backend_args, what)
        except FileNotFoundError as e:
            self.report_problem('missing_file', f'{e} ({where})', where,
                                FileNotFoundError)
        except IsADirectoryError as e:
            self.report_problem('directory', f'{e} ({where})', where,
                                IsADirectoryError)
        except ValueError as e:
            self.report_problem('unreadable_file', f'{e} ({where})', where)
        cache[path] = size
        return size

    def _check_files(self, data_list: List[dict]) -> List[dict]:
        """Read every file's header; count image/mask size mismatches."""
        cache: Dict[str, Optional[Tuple[int, int]]] = {}
        kept = []
        for info in data_list:
            where = info.get('source') or info['img_path']
            img_hw = self._file_size(info['img_path'], 'Image', where, cache)
            if info.get('seg_map_path') is not None:
                mask_hw = self._file_size(info['seg_map_path'], 'Mask',
                                          where, cache)
                if mask_hw is not None:
                    self._count_soft_edge(info['seg_map_path'], info)
            else:
                mask_hw = (int(info['height']), int(info['width']))
            if img_hw is None or mask_hw is None:
                continue  # reported (doctor mode)
            if img_hw != mask_hw:
                self.size_mismatches.append(
                    dict(where=where, img_path=info['img_path'],
                         img_hw=img_hw, mask_hw=mask_hw))
            kept.append(info)
        self._apply_size_policy()
        if self.soft_edges['soft']:
            self.warn(self.soft_edge_message())
        return kept

    def _count_soft_edge(self, path: str, info: dict) -> None:
        """Add a mask file's soft edge to :attr:`soft_edges` (once per
        file; a file that does not decode is left to the loader)."""
        if path in self._soft_edge_files:
            return
        self._soft_edge_files.add(path)
        try:
            raw = read_mask_file(path, self.backend_args)
        except (OSError, ValueError):
            return
        pixels, as_target = soft_edge_pixels(raw, info['mask_threshold'])
        edges = self.soft_edges
        edges['masks'] += 1
        if pixels:
            edges['soft'] += 1
            edges['pixels'] += pixels
            edges['as_target'] += as_target
            if len(edges['examples']) < 3:
                edges['examples'].append(osp.basename(path))

    def soft_edge_message(self) -> str:
        """What :attr:`soft_edges` found, in one sentence."""
        e = self.soft_edges
        return f'{self._name()}: ' + describe_soft_edges(
            e['soft'], e['masks'], e['pixels'], e['as_target'],
            self.rules['mask_threshold'], e['examples'])

    def _apply_size_policy(self) -> None:
        """One warning (or error) about all the size mismatches found."""
        found = {m['where']: m for m in self.size_mismatches}
        if not found:
            return
        examples = '; '.join(
            f'{osp.basename(m["img_path"])} is {m["img_hw"][0]}x'
            f'{m["img_hw"][1]} (h x w), its mask {m["mask_hw"][0]}x'
            f'{m["mask_hw"][1]} ({m["where"]})'
            for m in list(found.values())[:3])
        total = len(self.size_mismatches)
        head = (f'{self._name()}: {total} sample(s) have an image whose size '
                f'differs from its mask: {examples}')
        if self.rules['size_mismatch'] == 'error':
            self.report_problem(
                'size_mismatch', head + ". size_mismatch='error'; use "
                "'resample' to put such images on their mask's grid.")
        else:
            self.warn(head + ". Their images are resampled to the mask's "
                      "grid (size_mismatch='resample'; 'error' refuses "
                      'them).')

    # ------------------------------------------------------------ loading --

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


#: The former name of the class above, when it only added error notes.
ReferringDatasetMixin = BaseReferringDataset
