"""Refer-format datasets: RRSIS-D, RefCOCO and their kin."""
import json
import os.path as osp
import pickle
from typing import List, Optional, Sequence, Union

from mmengine import fileio
from mmseg.datasets import BaseSegDataset

from mmrrsis.registry import DATASETS

from .refsegrs import REFERRING_METAINFO, ReferringDatasetMixin
from .text_utils import find_category

TEXT_MODES = ('all', 'random')


@DATASETS.register_module()
class ReferDataset(ReferringDatasetMixin, BaseSegDataset):
    """A dataset in the refer format (REFER toolkit; RefCOCO, RRSIS-D).

    .. code-block:: none

        <data_root>/
          <dataset>/refs(<split_by>).p   pickled list of refs: ref_id,
                                         ann_id, image_id, split,
                                         sentences [{raw, sent, sent_id}],
                                         sent_ids
          <dataset>/instances.json       COCO: images, annotations
                                         (polygons or RLE), categories
          <image folder>/<file_name>     the images named in instances.json

    The target of a ref is its annotation's segmentation, decoded at load
    time by :class:`~mmrrsis.datasets.transforms.LoadReferringAnnotations`
    (the union of all its polygons, or its RLE).

    ``text_mode`` decides what a sample is:

    - ``'all'`` (evaluation): every sentence of every ref is its own
      sample, with ``text`` and ``sent_id``;
    - ``'random'`` (training, as LAVT): one sample per ref holding all its
      sentences in ``texts`` / ``sent_ids`` (``text`` and ``sent_id`` are
      None); :class:`~mmrrsis.datasets.transforms.RandomSentence` in the
      pipeline picks one each time the sample is loaded, so each epoch
      sees one random sentence per ref.

    Each data info holds ``img_path``, ``seg_map_path=None``, ``text``,
    ``texts`` (random mode), ``ref_id``, ``sent_id``, ``sent_ids``
    (random mode), ``ann_id``, ``image_id``, ``category`` (str or None),
    ``category_id``, the annotation's COCO ``segmentation`` (polygons list
    or RLE dict) with the image's ``height`` and ``width``, ``source``
    (``'<refs file> ref_id=<id>'``), ``seg_fields=[]``,
    ``reduce_zero_label=False`` and ``label_map``.

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
            when None, the name of the annotation's category in
            instances.json. Defaults to None.
        check_files (bool): Check that every image exists when the dataset
            is built. Defaults to True.
        **kwargs: Other arguments of :class:`~mmseg.datasets.BaseSegDataset`
            (``data_root``, ``pipeline``, ``test_mode``, ...).
    """
    METAINFO = REFERRING_METAINFO
    DATA_HINT = (
        'A refer-format dataset (REFER toolkit layout): <data_root> must '
        'hold the refs pickle, instances.json and the image folder of the '
        'config. For a generated stand-in run: python '
        'tools/dataset_converters/make_synthetic_refer.py <data_root>.')

    def __init__(self,
                 ann_file: str = 'refs(unc).p',
                 instances_file: str = 'instances.json',
                 split: Union[str, Sequence[str]] = 'train',
                 data_prefix: Optional[dict] = None,
                 text_mode: str = 'all',
                 text_key: str = 'raw',
                 category_names: Optional[Sequence[str]] = None,
                 check_files: bool = True,
                 **kwargs) -> None:
        if data_prefix is None:
            data_prefix = dict(img_path='')
        if text_mode not in TEXT_MODES:
            raise ValueError(f'text_mode must be one of {TEXT_MODES}, got '
                             f'{text_mode!r}')
        self.instances_file = instances_file
        self.splits = (split, ) if isinstance(split, str) else tuple(split)
        self.text_mode = text_mode
        self.text_key = text_key
        self.category_names = (None if category_names is None else
                               tuple(category_names))
        self.check_files = check_files
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
        try:
            refs = pickle.loads(data)
        except UnicodeDecodeError:  # pickled by Python 2
            refs = pickle.loads(data, encoding='latin1')
        except Exception as e:
            raise ValueError(
                f'Cannot unpickle the refs file {self.ann_file}: {e}') from e
        if not isinstance(refs, list):
            raise ValueError(f'{self.ann_file} must hold a list of refs, got '
                             f'{type(refs).__name__}')
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

    def load_data_list(self) -> List[dict]:
        """Join refs and instances into data infos of the chosen split(s).

        Returns:
            list[dict]: The data infos, in the order of the refs file.
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
        if not selected:
            found = sorted({str(ref.get('split')) for ref in refs})
            raise ValueError(f'No ref of split {list(self.splits)} in '
                             f'{self.ann_file}; its splits are {found}')
        checked = set()
        data_list = []
        for ref in selected:
            source = f'{self.ann_file} ref_id={ref.get("ref_id")}'
            ann = anns.get(ref['ann_id'])
            if ann is None:
                raise ValueError(
                    f'{refs_name}: ann_id {ref["ann_id"]} of ref_id '
                    f'{ref.get("ref_id")} is not an annotation in '
                    f'{self.instances_file}')
            image = images.get(ref['image_id'])
            if image is None:
                raise ValueError(
                    f'{refs_name}: image_id {ref["image_id"]} of ref_id '
                    f'{ref.get("ref_id")} is not an image in '
                    f'{self.instances_file}')
            img_path = osp.join(img_dir, image['file_name'])
            if self.check_files and img_path not in checked:
                if not fileio.exists(img_path,
                                     backend_args=self.backend_args):
                    raise FileNotFoundError(
                        f'Image not found: {img_path} (image_id '
                        f'{image["id"]}, {source})')
                checked.add(img_path)
            sentences = ref.get('sentences') or []
            if not sentences:
                raise ValueError(f'{source} has no sentences')
            texts = [self._sentence_text(s, source) for s in sentences]
            sent_ids = list(ref.get('sent_ids') or [])
            if len(sent_ids) != len(sentences):
                sent_ids = [
                    s.get('sent_id', i) for i, s in enumerate(sentences)
                ]
            if self.category_names is None:
                category = categories.get(ann.get('category_id'))
            else:
                category = find_category(texts[0], self.category_names)
            base = dict(
                img_path=img_path,
                seg_map_path=None,
                ref_id=ref.get('ref_id'),
                ann_id=ann['id'],
                image_id=image['id'],
                category=category,
                category_id=ann.get('category_id'),
                segmentation=ann['segmentation'],
                height=int(image['height']),
                width=int(image['width']),
                source=source,
                label_map=self.label_map,
                reduce_zero_label=self.reduce_zero_label,
                seg_fields=[])
            if self.text_mode == 'random':
                data_list.append(
                    dict(base, text=None, sent_id=None, texts=texts,
                         sent_ids=sent_ids))
                continue
            for text, sent_id in zip(texts, sent_ids):
                info = dict(base, text=text, sent_id=sent_id)
                if self.category_names is not None:
                    info['category'] = find_category(
                        text, self.category_names)
                data_list.append(info)
        return data_list

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

    Categories are the 20 names of instances.json.

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
