"""Refer-format datasets: RRSIS-D, RefCOCO and their kin."""
import json
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine import fileio

from mmrrsis.registry import DATASETS

from .base_referring_dataset import TEXT_MODES, BaseReferringDataset
from .generated import GeneratedOnFirstUse
from .masks import degenerate_parts, segmentation_size
from .safe_pickle import loads_plain
from .text_utils import find_category
from .transforms.loading import check_choice

__all__ = [
    'ReferDataset', 'RRSISDDataset', 'GRefCOCODataset',
    'SyntheticGRefCOCODataset', 'category_id_of'
]

#: Where a ref's category id is looked up, in this order: the COCO key of
#: the annotation, the key public RRSIS-D scripts read, the ref's own.
CATEGORY_KEYS = (('ann', 'category_id'), ('ann', 'categories_id'),
                 ('ref', 'category_id'))


def category_id_of(ann: dict, ref: dict):
    """The category id of a ref: ``ann['category_id']``, else
    ``ann['categories_id']`` (RRSIS-D), else ``ref['category_id']``; None
    when none is there."""
    sources = dict(ann=ann, ref=ref)
    for owner, key in CATEGORY_KEYS:
        value = sources[owner].get(key)
        if value is not None:
            return value
    return None


@DATASETS.register_module()
class ReferDataset(BaseReferringDataset):
    """A dataset in the refer format (REFER toolkit; RefCOCO, RRSIS-D).

    .. code-block:: none

        <data_root>/
          <dataset>/refs(<split_by>).p   pickled list of refs: ref_id,
                                         ann_id, image_id, split,
                                         sentences [{raw, sent, sent_id}],
                                         sent_ids, category_id
          <dataset>/instances.json       COCO: images, annotations
                                         (polygons or RLE), categories
          <image folder>/<file_name>     the images named in instances.json

    The refs pickle is read without running code: only plain data is
    rebuilt (:mod:`~mmrrsis.datasets.safe_pickle`); a file that names a
    callable is refused with an error naming it. Text of Python 2 pickles
    is decoded as UTF-8, latin1 only as the fallback.

    The target of a ref is its annotation's segmentation, decoded at load
    time by :class:`~mmrrsis.datasets.transforms.LoadReferringAnnotations`:
    RefCOCO's are polygon lists, drawn on the image entry's ``height`` x
    ``width``; RRSIS-D's a list holding one compressed RLE with a str
    ``counts``, decoded at the RLE's own ``size`` (as the refer API does;
    an image entry may state the image's true height, 801, while its RLE
    is 800x800: the sample's ``height`` / ``width`` are the mask's grid and
    the image is put on it by the ``size_mismatch`` policy). Polygon parts
    with fewer than 6 or an odd number of coordinates are dropped (the
    refer API draws nothing for them), counted in one warning; an
    annotation without a valid part is an error naming the ref. Parts
    that overlap are united (``polygon_overlap='union'``)
    or, as the refer API's ``getMask`` and so the published LAVT / RMSIN
    numbers, dropped (``'refer'``: the part masks are summed and pixels
    equal to 1 kept).

    The category of a ref is the name, in instances.json ``categories``,
    of ``ann['category_id']``, else ``ann['categories_id']`` (what public
    RRSIS-D scripts read), else ``ref['category_id']``; or, with
    ``category_names``, the class its expression names.

    ``text_mode`` decides what a sample is:

    - ``'all'`` (evaluation): every sentence of every ref is its own
      sample, with ``text`` and ``sent_id``;
    - ``'random'`` (training, as LAVT): one sample per ref holding all its
      sentences in ``texts`` / ``sent_ids`` (``text`` and ``sent_id`` are
      None); :class:`~mmrrsis.datasets.transforms.RandomSentence` in the
      pipeline picks one each time the sample is loaded, so each epoch
      sees one random sentence per ref.

    Several splits can be read at once (``split=['val', 'testA',
    'testB']``): each sample keeps its ``split``, and
    :class:`~mmrrsis.evaluation.RRSISMetric` scores them apart, under
    ``<split>/`` prefixes, in one test run.

    Each sample holds, besides the keys of
    :class:`~mmrrsis.datasets.BaseReferringDataset`: ``ann_id``,
    ``image_id``, ``category_id``, the annotation's COCO ``segmentation``
    with the image's ``height`` and ``width``, ``source`` (``'<refs file>
    ref_id=<id>'``).

    Args:
        ann_file (str): The refs pickle, relative to ``data_root``.
            Defaults to 'refs(unc).p'.
        instances_file (str): The COCO instances file, relative to
            ``data_root``. Defaults to 'instances.json'.
        split (str | Sequence[str]): The split(s) to keep (``'train'``,
            ``'val'``, ``'test'``, RefCOCO's ``'testA'``, ...). Defaults to
            'train'.
        data_prefix (dict): ``img_path``: the image folder. Defaults to
            ``dict(img_path='')``.
        text_mode (str): ``'all'`` or ``'random'``, see above. Defaults to
            'all'.
        text_key (str): The sentence field used as text; ``'raw'`` (what
            LAVT reads) falls back to ``'sent'`` when absent. Defaults to
            'raw'.
        category_names (Sequence[str], optional): When given, a sample's
            category is the class its expression names (as for RefSegRS);
            when None, the name of the ref's category in instances.json.
            Defaults to None.
        **kwargs: Other arguments of
            :class:`~mmrrsis.datasets.BaseReferringDataset`
            (``polygon_overlap``, ``size_mismatch``, ``check_files``) and
            of :class:`~mmseg.datasets.BaseSegDataset` (``data_root``,
            ``pipeline``, ``test_mode``, ...).
    """
    DATA_HINT = (
        'A refer-format dataset (REFER toolkit layout): <data_root> must '
        'hold the refs pickle, instances.json and the image folder of the '
        'config. For a generated stand-in run: python '
        'tools/dataset_converters/make_synthetic_refer.py <data_root>.')
    CATEGORY_HINT = ('no annotation has category_id or categories_id and '
                     'no ref category_id, or instances.json has no '
                     'categories naming them')

    def __init__(self,
                 ann_file: str = 'refs(unc).p',
                 instances_file: str = 'instances.json',
                 split: Union[str, Sequence[str]] = 'train',
                 data_prefix: Optional[dict] = None,
                 text_mode: str = 'all',
                 text_key: str = 'raw',
                 category_names: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='')
        check_choice('text_mode', text_mode, TEXT_MODES)
        self.instances_file = instances_file
        self.splits = (split, ) if isinstance(split, str) else tuple(split)
        self.text_mode = text_mode
        self.text_key = text_key
        self.category_names = (None if category_names is None else
                               tuple(category_names))
        kwargs.setdefault('img_suffix', '')
        super().__init__(ann_file=ann_file, data_prefix=data_prefix, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.instances_file and not osp.isabs(self.instances_file):
            self.instances_file = osp.join(self.data_root,
                                           self.instances_file)

    def _load_refs(self) -> list:
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'Refs file not found: {self.ann_file!r}')
        data = fileio.get(self.ann_file, backend_args=self.backend_args)
        refs = loads_plain(data, self.ann_file)
        if not isinstance(refs, list):
            raise ValueError(f'{self.ann_file} must hold a list of refs, got '
                             f'{type(refs).__name__}')
        bad = next((i for i, r in enumerate(refs) if not isinstance(r, dict)),
                   None)
        if bad is not None:
            raise ValueError(f'{self.ann_file}: ref {bad} is a '
                             f'{type(refs[bad]).__name__}, not a dict')
        return refs

    def _load_instances(self) -> dict:
        if not fileio.exists(
                self.instances_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'Instances file not found: {self.instances_file!r}')
        try:
            return json.loads(
                fileio.get_text(
                    self.instances_file, backend_args=self.backend_args))
        except json.JSONDecodeError as e:
            raise ValueError(f'Cannot parse {self.instances_file}: {e}') \
                from e

    def read_annotations(self) -> List[dict]:
        """Join refs and instances into samples of the chosen split(s).

        Returns:
            list[dict]: The samples, in the order of the refs file.
        """
        refs = self._load_refs()
        instances = self._load_instances()
        images = {img['id']: img for img in instances.get('images', [])}
        anns = {ann['id']: ann for ann in instances.get('annotations', [])}
        categories = {
            cat['id']: cat['name']
            for cat in instances.get('categories', [])
        }
        img_dir = self.data_prefix.get('img_path') or ''
        refs_name = osp.basename(self.ann_file)

        selected = [ref for ref in refs if ref.get('split') in self.splits]
        missing = sorted(set(self.splits) -
                         {ref.get('split') for ref in selected})
        if missing:
            found = sorted({str(ref.get('split')) for ref in refs})
            raise ValueError(f'No ref of split {missing} in {self.ann_file}; '
                             f'its splits are {found}')
        data_list = []
        self._degenerate: List[str] = []
        for ref in selected:
            source = f'{self.ann_file} ref_id={ref.get("ref_id")}'
            image = images.get(ref.get('image_id'))
            target = self.ref_target(ref, anns, image, source)
            if target is None:
                continue  # reported
            if image is None:
                self.report_problem(
                    'missing_image_entry',
                    f'{refs_name}: image_id {ref.get("image_id")} of ref_id '
                    f'{ref.get("ref_id")} is not an image in '
                    f'{self.instances_file}', source)
                continue
            sentences = ref.get('sentences') or []
            if not sentences:
                self.report_problem('no_sentences',
                                    f'{source} has no sentences', source)
                continue
            texts = [self._sentence_text(s, source) for s in sentences]
            sent_ids = list(ref.get('sent_ids') or [])
            if len(sent_ids) != len(sentences):
                sent_ids = [
                    s.get('sent_id', i) if isinstance(s, dict) else i
                    for i, s in enumerate(sentences)
                ]
            try:
                height, width = self.target_size(target, image)
            except ValueError as e:
                self.report_problem('bad_segmentation', f'{source}: {e}',
                                    source)
                continue
            category_id = target.pop('category_id')
            base = dict(
                img_path=osp.join(img_dir, image['file_name']),
                seg_map_path=None,
                ref_id=ref.get('ref_id'),
                image_id=image['id'],
                category=(self.category_name(category_id, categories)
                          if self.category_names is None else None),
                category_id=category_id,
                height=height,
                width=width,
                split=ref.get('split'),
                source=source,
                **target)
            samples = self.expand_sentences(base, texts, sent_ids,
                                            self.text_mode)
            if self.category_names is not None:
                for info in samples:
                    info['category'] = find_category(
                        info['text'] or texts[0], self.category_names)
            data_list.extend(samples)
        self._report_degenerate()
        return data_list

    def ref_target(self, ref: dict, anns: dict, image: Optional[dict],
                   source: str) -> Optional[dict]:
        """The target keys of a ref: ``ann_id``, ``segmentation`` and
        ``category_id``; None after a reported problem.

        Args:
            ref (dict): The ref.
            anns (dict): Annotations of instances.json by id.
            image (dict, optional): The ref's image entry.
            source (str): The ref, for messages.

        Returns:
            dict | None: The keys added to the ref's samples.
        """
        refs_name = osp.basename(self.ann_file)
        ann = anns.get(ref.get('ann_id'))
        if ann is None:
            self.report_problem(
                'missing_annotation',
                f'{refs_name}: ann_id {ref.get("ann_id")} of ref_id '
                f'{ref.get("ref_id")} is not an annotation in '
                f'{self.instances_file}', source)
            return None
        if not self.check_polygons(ann, source):
            return None
        return dict(ann_id=ann['id'], segmentation=ann['segmentation'],
                    category_id=category_id_of(ann, ref))

    def check_polygons(self, ann: dict, source: str) -> bool:
        """Count an annotation's degenerate polygon parts; False (after an
        error naming the ref) when no part is valid."""
        seg = ann.get('segmentation')
        bad = degenerate_parts(seg)
        if not bad:
            return True
        lengths = [len(p) if isinstance(p, (list, tuple)) else p
                   for p in seg]
        if len(bad) == len(seg):
            self.report_problem(
                'bad_segmentation',
                f'{source}: annotation {ann.get("id")} has no valid polygon '
                f'part (a part needs an even number, >= 6, of coordinates; '
                f'its parts have {lengths})', source)
            return False
        message = (f'{source}: annotation {ann.get("id")} has '
                   f'{len(bad)} polygon part(s) with too few or an odd '
                   f'number of coordinates (parts {bad} of {lengths}), '
                   'dropped')
        self._degenerate.append(message)
        self.record('degenerate_polygon', message, source)
        return True

    def _report_degenerate(self) -> None:
        if not self._degenerate:
            return
        self.warn(f'{self._name()}: {len(self._degenerate)} annotation(s) '
                  'have polygon parts with fewer than 6 or an odd number of '
                  'coordinates; those parts are dropped (the refer API '
                  'draws nothing for them), e.g. ' +
                  '; '.join(self._degenerate[:3]))

    @staticmethod
    def target_size(target: dict, image: dict):
        """(h, w) of a target's mask: its RLE's size, else the image
        entry's."""
        return segmentation_size(target['segmentation'],
                                 int(image['height']), int(image['width']))

    @staticmethod
    def category_name(category_id, categories: dict):
        """The category name of an id (or of the first of a list)."""
        if isinstance(category_id, (list, tuple)):
            names = [categories.get(c) for c in category_id
                     if categories.get(c) is not None]
            return names[0] if len(set(names)) == 1 else (
                '+'.join(sorted(set(names))) or None)
        return categories.get(category_id)

    def _sentence_text(self, sentence: Union[dict, str], source: str) -> str:
        if isinstance(sentence, str):
            return sentence
        for key in (self.text_key, 'raw', 'sent'):
            if isinstance(sentence.get(key), str):
                return sentence[key]
        raise ValueError(f'A sentence of {source} has no text field '
                         f'{self.text_key!r}: {sentence!r}')


@DATASETS.register_module()
class RRSISDDataset(ReferDataset):
    """RRSIS-D (RMSIN): 17,402 triplets of 800x800 aerial JPEGs.

    :class:`ReferDataset` with RRSIS-D's layout as defaults, with
    ``data_root`` the refer data folder:

    .. code-block:: none

        <data_root>/rrsisd/refs(unc).p
        <data_root>/rrsisd/instances.json
        <data_root>/images/rrsisd/JPEGImages/*.jpg

    Categories are the 20 names of instances.json. The quirks of the
    published files, and what is done with them:

    - ``segmentation`` is a list holding one compressed RLE dict whose
      ``counts`` is a str, decoded as is;
    - annotations may carry the category as ``categories_id``, which is
      read when ``category_id`` is absent;
    - some JPEGs are 800x801, 801x800 or 800x787 while their masks (and
      the image entries of instances.json) are 800x800: with the default
      ``size_mismatch='resample'`` such images are put on the mask's grid
      (counted in one warning when the dataset is built), with
      ``'error'`` the build fails listing them.

    Args:
        ann_file (str): Defaults to 'rrsisd/refs(unc).p'.
        instances_file (str): Defaults to 'rrsisd/instances.json'.
        data_prefix (dict): Defaults to
            ``dict(img_path='images/rrsisd/JPEGImages')``.
        **kwargs: Other arguments of :class:`ReferDataset`.
    """

    DATA_HINT = (
        'RRSIS-D comes with RMSIN (Lsan2401/RMSIN on GitHub); put it in the '
        'refer layout: <data_root>/rrsisd/refs(unc).p, '
        '<data_root>/rrsisd/instances.json and '
        '<data_root>/images/rrsisd/JPEGImages/*.jpg. For a generated '
        'stand-in run: python tools/dataset_converters/'
        'make_synthetic_refer.py <data_root>.')

    def __init__(self,
                 ann_file: str = 'rrsisd/refs(unc).p',
                 instances_file: str = 'rrsisd/instances.json',
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='images/rrsisd/JPEGImages')
        super().__init__(
            ann_file=ann_file,
            instances_file=instances_file,
            data_prefix=data_prefix,
            **kwargs)


@DATASETS.register_module()
class GRefCOCODataset(ReferDataset):
    """gRefCOCO (GRES; ReLA): generalized referring expressions.

    The refer layout with ReLA's names, ``data_root`` the folder holding:

    .. code-block:: none

        grefcoco/grefs(unc).json     the refs (a pickle ``grefs(unc).p``
                                     is read the same way)
        grefcoco/instances.json      COCO images, annotations, categories
        images/train2014/*.jpg       MS COCO train2014 images

    A ref's ``ann_id`` is a list: ``[-1]`` means **no target** (the
    expression matches nothing: an empty mask), several ids mean
    **multi-target** (their masks united, as ReLA's loader merges them);
    a single id (or a plain int) is a classic reference. As ReLA's loader
    does, crowd annotations are left out of a target, and polygon parts
    with fewer than 6 or an odd number of coordinates are dropped (counted
    in one warning). ``category_id`` may be a list too; the category of a
    sample is the name shared by its targets (``'a+b'`` when they differ,
    None for no target).

    Each sample holds, besides the keys of :class:`ReferDataset`:
    ``segmentations`` (one COCO segmentation per target annotation; empty
    for no target) instead of ``segmentation``, ``ann_id`` (the list) and
    ``no_target`` (bool), which :class:`~mmrrsis.evaluation.RRSISMetric`
    (``gres=True``) reads for N-acc and T-acc.

    Args:
        ann_file (str): Defaults to 'grefcoco/grefs(unc).json'.
        instances_file (str): Defaults to 'grefcoco/instances.json'.
        data_prefix (dict): Defaults to ``dict(img_path='images/train2014')``.
        **kwargs: Other arguments of :class:`ReferDataset`.
    """
    DATA_HINT = (
        'gRefCOCO comes from the GRES authors (henghuiding/gRefCOCO on '
        'GitHub: grefs(unc).json and instances.json; images from MS COCO '
        'train2014); put it in ReLA\'s layout: <data_root>/grefcoco/'
        'grefs(unc).json, <data_root>/grefcoco/instances.json, '
        '<data_root>/images/train2014/*.jpg. For a generated generalized '
        'set in the same schema run: python tools/dataset_converters/'
        'make_synthetic_refer.py <data_root> --dataset grefcoco')

    def __init__(self,
                 ann_file: str = 'grefcoco/grefs(unc).json',
                 instances_file: str = 'grefcoco/instances.json',
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='images/train2014')
        super().__init__(
            ann_file=ann_file,
            instances_file=instances_file,
            data_prefix=data_prefix,
            **kwargs)

    def _load_refs(self) -> list:
        if not str(self.ann_file).endswith('.json'):
            return super()._load_refs()
        if not fileio.exists(self.ann_file, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'Refs file not found: {self.ann_file!r}')
        try:
            refs = json.loads(
                fileio.get_text(self.ann_file,
                                backend_args=self.backend_args))
        except json.JSONDecodeError as e:
            raise ValueError(f'Cannot parse {self.ann_file}: {e}') from e
        if not isinstance(refs, list) or not all(
                isinstance(r, dict) for r in refs):
            raise ValueError(f'{self.ann_file} must hold a list of refs '
                             '(dicts)')
        return refs

    def ref_target(self, ref: dict, anns: dict, image: Optional[dict],
                   source: str) -> Optional[dict]:
        """``segmentations`` (of every non-crowd target annotation),
        ``ann_id`` (the list), ``no_target`` and ``category_id``."""
        ann_ids = ref.get('ann_id')
        ann_ids = list(ann_ids) if isinstance(ann_ids,
                                              (list, tuple)) else [ann_ids]
        if ann_ids == [-1]:
            return dict(ann_id=ann_ids, segmentations=[], no_target=True,
                        category_id=None)
        missing = [a for a in ann_ids if a not in anns]
        if missing:
            self.report_problem(
                'missing_annotation',
                f'{osp.basename(self.ann_file)}: ann_id {missing} of ref_id '
                f'{ref.get("ref_id")} not in {self.instances_file} (a '
                'no-target ref has ann_id [-1])', source)
            return None
        targets = [anns[a] for a in ann_ids if not anns[a].get('iscrowd')]
        if not targets:
            self.report_problem(
                'missing_annotation',
                f'{source}: every annotation of ann_id {ann_ids} is a crowd '
                'annotation, which ReLA leaves out: nothing to segment',
                source)
            return None
        if not all(self.check_polygons(a, source) for a in targets):
            return None
        category_id = ref.get('category_id')
        if category_id is None:
            category_id = [category_id_of(a, ref) for a in targets]
        return dict(ann_id=ann_ids,
                    segmentations=[a['segmentation'] for a in targets],
                    no_target=False, category_id=category_id)

    @staticmethod
    def target_size(target: dict, image: dict):
        """(h, w) of the targets' masks: their RLEs' size, else the image
        entry's; targets on different grids raise."""
        h, w = int(image['height']), int(image['width'])
        sizes = {
            segmentation_size(seg, h, w)
            for seg in target['segmentations']
        } or {(h, w)}
        if len(sizes) > 1:
            raise ValueError('the annotations of one ref decode to '
                             f'different sizes: {sorted(sizes)}')
        return sizes.pop()


@DATASETS.register_module()
class SyntheticGRefCOCODataset(GeneratedOnFirstUse, GRefCOCODataset):
    """:class:`GRefCOCODataset` on a generated generalized set, created
    when missing.

    The set (no-target and multi-target expressions on generated aerial
    scenes, gRefCOCO's schema; all splits) is written under ``data_root``
    on first use by
    :func:`~mmrrsis.datasets.synthetic.make_synthetic_grefer` (see
    :class:`~mmrrsis.datasets.generated.GeneratedOnFirstUse`). Its
    expressions name RefSegRS' classes, the samples' categories.

    Args:
        no_target_ratio (float): Expected share of no-target refs.
            Defaults to 0.25.
        **kwargs: ``num_images``, ``size``, ``seed``, ``split_ratios`` and
            the arguments of :class:`GRefCOCODataset`; ``data_root`` is
            required.
    """

    def __init__(self, no_target_ratio: float = .25, **kwargs) -> None:
        self.no_target_ratio = no_target_ratio
        super().__init__(**kwargs)

    def write_data(self, root: str) -> None:
        """Generate the whole set into ``root``."""
        from .synthetic import make_synthetic_grefer
        make_synthetic_grefer(
            root,
            num_images=self.num_images,
            size=self.size,
            seed=self.seed,
            split_ratios=self.split_ratios,
            no_target_ratio=self.no_target_ratio,
            show_progress=False)
