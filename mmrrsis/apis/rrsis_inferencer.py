"""RRSISInferencer: masks of referring expressions on aerial images."""
import os.path as osp
import warnings
from collections import defaultdict
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.infer.infer import BaseInferencer
from mmengine.registry import FUNCTIONS, init_default_scope
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer
from mmseg.structures import SegDataSample
from PIL import Image

from mmrrsis.registry import INFERENCERS
from mmrrsis.utils import autocast_context
from mmrrsis.visualization import RRSISLocalVisualizer

from .inference import init_model, keeps_size, set_slide_inference
from .inputs import ImageType, ScalingType, pair_inputs
from .pipeline import InferencePipeline
from .predictor import WindowPredictor, same_image_groups


@INFERENCERS.register_module()
class RRSISInferencer(BaseInferencer):
    """Referring segmentation inferencer, in the style of mmseg's.

    Example::

        inferencer = RRSISInferencer('configs/lgce_swin-b.py',
                                     'work_dirs/lgce/best_oIoU.pth')
        out = inferencer('tile.tif', texts=['the long truck',
                                            'building along the road'])
        out['predictions']   # two (H, W) uint8 masks, 1 = target

    Images and expressions are paired as in
    :func:`~mmrrsis.apis.pair_inputs`: one image with any number
    of expressions, one expression (a str) for every image, or lists of the
    same length. Images are file paths or arrays, read by one rule (see
    :mod:`mmrrsis.apis.inputs`): files with the config's
    ``LoadRSImageFromFile`` settings; 8-bit (H, W, 3) BGR arrays (as
    ``cv2.imread`` gives) or (H, W) grey ones as they are; anything else
    (uint16 or float arrays, 4-band files) needs ``scaling``, e.g.
    ``scaling=dict(bands=(3, 2, 1), scale='percentile')``, under which an
    array is (H, W, bands) in band order::

        RRSISInferencer(cfg, ckpt, scaling=dict(
            bands=(3, 2, 1), scale='minmax', min_value=0, max_value=4095))

    For tiles larger than the training size, ``slide=dict(crop_size=480,
    stride=320)`` (or a config whose ``model.test_cfg`` is
    ``mode='slide'``) predicts window by window with the
    :class:`~mmrrsis.apis.WindowPredictor` (all expressions of an image
    together; a late-fusion model encodes each window once); with the
    argument, the test pipeline's ``Resize`` is skipped so the tile keeps
    its resolution. Masks follow the model's own rule
    (``predict_probs`` / ``probs_to_mask``) either way.

    ``precision='bf16'`` (CPUs with AVX512-BF16/AMX, CUDA) or ``'fp16'``
    (CUDA) runs the model under autocast (:mod:`mmrrsis.utils.precision`).

    Args:
        model (str | Config): Config file or object.
        weights (str, optional): Checkpoint. Defaults to None (random
            weights, with a warning).
        device (str, optional): Defaults to None (CUDA when available).
        scope (str): Default registry scope. Defaults to 'mmrrsis'.
        slide (dict, optional): ``crop_size`` and ``stride`` (int or
            (h, w)) for sliding-window inference. Defaults to None.
        cfg_options (dict, optional): Overrides merged into the config.
            Defaults to None.
        show_progress (bool): Show a progress bar. Defaults to False.
        unsafe_load (bool): Unpickle the checkpoint completely, which runs
            any code it names; only for files you trust. Defaults to False
            (weights only, see :func:`~mmrrsis.apis.load_checkpoint_checked`).
        scaling (BandScaling | dict, optional): Band selection and
            scaling of the inputs (a ``BandScaling`` or its dict: ``bands``,
            ``scale``, ``percentiles``, ``min_value``, ``max_value``),
            replacing the config's ``LoadRSImageFromFile`` settings.
            Defaults to None (the config's).
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``. Defaults to
            'fp32'.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {
        'show', 'wait_time', 'img_out_dir', 'opacity', 'return_vis',
        'with_labels'
    }
    postprocess_kwargs: set = {'pred_out_dir'}

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: str = 'mmrrsis',
                 slide: Optional[dict] = None,
                 cfg_options: Optional[dict] = None,
                 show_progress: bool = False,
                 unsafe_load: bool = False,
                 scaling: ScalingType = None,
                 precision: str = 'fp32') -> None:
        init_default_scope(scope)
        self._cfg_options = cfg_options
        self._unsafe_load = unsafe_load
        self._scaling = scaling
        self._model_name = str(model) if isinstance(model,
                                                    (str, Path)) else None
        if isinstance(model, Path):
            model = str(model)
        if isinstance(model, str) and not osp.isfile(model):
            raise FileNotFoundError(f'Config file not found: {model}')
        self.num_visualized = 0
        super().__init__(
            model=model,
            weights=weights,
            device=device,
            scope=scope,
            show_progress=show_progress)
        self.precision = precision
        autocast_context(precision, str(self.model.data_preprocessor.device))
        if slide is not None:
            set_slide_inference(self.model, **slide)
            self.pipeline = InferencePipeline(
                self.cfg, keep_size=True, scaling=scaling)

    @torch.no_grad()
    def forward(self, inputs: dict, **kwargs) -> List[SegDataSample]:
        """Predict a collated batch: ``model.test_step``, or with sliding
        windows the :class:`WindowPredictor` once per image (its
        expressions together), then the model's ``postprocess_result``.
        """
        device = str(self.model.data_preprocessor.device)
        test_cfg = self.model.test_cfg
        if test_cfg.get('mode') != 'slide':
            with autocast_context(self.precision, device):
                return self.model.test_step(inputs)
        data = self.model.data_preprocessor(inputs, False)
        samples = data['data_samples']
        crop, stride = tuple(test_cfg.crop_size), tuple(test_cfg.stride)
        preds = []
        for group in same_image_groups(list(inputs['inputs'])):
            group_samples = [samples[i] for i in group]
            predictor = WindowPredictor(
                self.model, [s.metainfo['text'] for s in group_samples],
                self.pipeline, precision=self.precision)
            first = data['inputs'][group[0]:group[0] + 1]
            logits = predictor.tile_logits(first, crop, stride,
                                           group_samples[0].metainfo)
            preds.extend(
                self.model.postprocess_result(logits, group_samples))
        return preds

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        """Build with :func:`init_model` (its checks included)."""
        if weights is None:
            warnings.warn('RRSISInferencer: no checkpoint given, the '
                          'predictions come from random weights.')
        model = init_model(
            cfg if self._model_name is None else self._model_name,
            checkpoint=weights,
            device=device,
            cfg_options=self._cfg_options,
            unsafe_load=self._unsafe_load)
        return model

    def _init_pipeline(self, cfg: Config) -> InferencePipeline:
        """The test pipeline for in-memory (image, text) pairs."""
        return InferencePipeline(
            self.model.cfg,
            keep_size=keeps_size(self.model),
            scaling=self._scaling)

    def _init_collate(self, cfg: Config):
        """``test_dataloader.collate_fn`` (mmengine's), else pseudo_collate.
        """
        collate = (cfg.get('test_dataloader') or {}).get('collate_fn')
        if collate is None:
            return pseudo_collate
        return FUNCTIONS.get(collate['type'])

    def _init_visualizer(self, cfg: Config) -> RRSISLocalVisualizer:
        """An :class:`RRSISLocalVisualizer` (settings from the config)."""
        vis_cfg = dict(cfg.get('visualizer') or {})
        kwargs = {
            k: vis_cfg[k]
            for k in ('alpha', 'gt_color', 'pred_color', 'font_scale')
            if k in vis_cfg and vis_cfg.get('type') == 'RRSISLocalVisualizer'
        }
        name = f'rrsis_inferencer_{id(self)}'
        if Visualizer.check_instance_created(name):
            return Visualizer.get_instance(name)
        return RRSISLocalVisualizer.get_instance(name, **kwargs)

    def __call__(self,
                 inputs: Union[ImageType, Sequence[ImageType]],
                 texts: Union[str, Sequence[str], None] = None,
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 return_vis: bool = False,
                 show: bool = False,
                 wait_time: float = 0,
                 out_dir: str = '',
                 img_out_dir: str = 'vis',
                 pred_out_dir: str = 'pred',
                 **kwargs) -> dict:
        """Predict the mask of every (image, expression) pair.

        Args:
            inputs (str | np.ndarray | Sequence): Image file(s) or
                array(s) (see the class docstring).
            texts (str | Sequence[str]): Expression(s).
            return_datasamples (bool): Return the ``SegDataSample``s
                instead of a dict. Defaults to False.
            batch_size (int): Pairs per forward pass. Defaults to 1.
            return_vis (bool): Also return the drawings. Defaults to False.
            show (bool): Show the drawings in a window. Defaults to False.
            wait_time (float): Seconds each is shown. Defaults to 0.
            out_dir (str): Write drawings to ``out_dir/img_out_dir`` and
                masks (PNG, 0/255) to ``out_dir/pred_out_dir``, named
                ``<image name>_<expression index>.png``. Defaults to '' (write
                nothing).
            img_out_dir (str): Defaults to 'vis'.
            pred_out_dir (str): Defaults to 'pred'.
            **kwargs: ``opacity`` (mask tint) and ``with_labels`` (print
                the expression; default True) for the drawings.

        Returns:
            dict: ``predictions``: (H, W) uint8 masks (1 = target) at each
            image's size, and ``visualization``: (H', W', 3) RGB drawings
            (empty unless asked); a single mask/drawing rather than a list
            when one image and one expression (a str) were given.
        """
        pairs = pair_inputs(inputs, texts)
        names = self._names(pairs)
        self._single = isinstance(inputs,
                                  (str, Path, np.ndarray)) and isinstance(
                                      texts, str)
        items = [(img, text, name) for (img, text), name in zip(pairs, names)]
        if out_dir:
            img_out_dir = osp.join(out_dir, img_out_dir)
            pred_out_dir = osp.join(out_dir, pred_out_dir)
        else:
            img_out_dir = pred_out_dir = ''
        return super().__call__(
            inputs=items,
            return_datasamples=return_datasamples,
            batch_size=batch_size,
            return_vis=return_vis,
            show=show,
            wait_time=wait_time,
            img_out_dir=img_out_dir,
            pred_out_dir=pred_out_dir,
            **kwargs)

    def _names(self, pairs: List[Tuple[ImageType, str]]) -> List[str]:
        """``<image stem>_<k>``: the k-th expression of that image."""
        counts = defaultdict(int)
        arrays = {}
        names = []
        for img, _ in pairs:
            if isinstance(img, np.ndarray):
                if id(img) not in arrays:
                    index = self.num_visualized + len(arrays)
                    arrays[id(img)] = f'{index:08d}'
                stem = arrays[id(img)]
            else:
                stem = osp.splitext(osp.basename(str(img)))[0]
            names.append(f'{stem}_{counts[stem]}')
            counts[stem] += 1
        self.num_visualized += len(arrays)
        return names

    def visualize(self,
                  inputs: list,
                  preds: List[SegDataSample],
                  return_vis: bool = False,
                  show: bool = False,
                  wait_time: float = 0,
                  img_out_dir: str = '',
                  opacity: Optional[float] = None,
                  with_labels: bool = True) -> Optional[List[np.ndarray]]:
        """Draw each predicted mask and its expression on its image.

        Args:
            inputs (list): (image, text, name) items.
            preds (list[SegDataSample]): Predictions.
            return_vis (bool): Return the drawings. Defaults to False.
            show (bool): Show them. Defaults to False.
            wait_time (float): Defaults to 0.
            img_out_dir (str): Write them there as ``<name>.png``. Defaults
                to '' (not written).
            opacity (float, optional): Mask tint opacity. Defaults to None
                (the visualizer's).
            with_labels (bool): Print the expression. Defaults to True.

        Returns:
            list[np.ndarray] | None: (H', W', 3) RGB drawings if
            ``return_vis``.
        """
        if not (show or img_out_dir or return_vis):
            return None
        if opacity is not None:
            self.visualizer.alpha = opacity
        drawings = []
        for (img, text, name), pred in zip(inputs, preds):
            image = mmcv.bgr2rgb(self.pipeline.image(img))
            out_file = osp.join(img_out_dir,
                                f'{name}.png') if img_out_dir else None
            self.visualizer.add_datasample(
                name,
                image,
                pred,
                draw_gt=False,
                show=show,
                wait_time=wait_time,
                out_file=out_file,
                with_labels=with_labels,
                text=text)
            drawings.append(self.visualizer.get_image())
        return drawings if return_vis else None

    def postprocess(self,
                    preds: List[SegDataSample],
                    visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False,
                    pred_out_dir: str = '') -> Union[dict, SegDataSample,
                                                     List[SegDataSample]]:
        """Pack masks (and drawings); write the masks if asked.

        Args:
            preds (list[SegDataSample]): Predictions with ``pred_sem_seg``
                (1, H, W).
            visualization (list[np.ndarray], optional): Drawings.
            return_datasample (bool): Return ``preds`` as they are.
                Defaults to False.
            pred_out_dir (str): Write ``<name>.png`` masks (0/255) there.
                Defaults to '' (not written).

        Returns:
            dict | SegDataSample | list[SegDataSample]: See
            :meth:`__call__`.
        """
        if pred_out_dir:
            mkdir_or_exist(pred_out_dir)
            for pred, name in zip(preds, self._last_names):
                mask = pred.pred_sem_seg.data[0].cpu().numpy() == 1
                Image.fromarray(mask.astype(np.uint8) * 255).save(
                    osp.join(pred_out_dir, f'{name}.png'))
        if return_datasample:
            return preds[0] if self._single else preds
        masks = [
            (pred.pred_sem_seg.data[0].cpu().numpy() == 1).astype(np.uint8)
            for pred in preds
        ]
        vis = visualization or []
        if self._single:
            return dict(
                predictions=masks[0], visualization=vis[0] if vis else None)
        return dict(predictions=masks, visualization=vis)

    def preprocess(self, inputs: list, batch_size: int = 1, **kwargs):
        """Run the pipeline on the pairs and batch them.

        Args:
            inputs (list): (image, text, name) items.
            batch_size (int): Defaults to 1.

        Yields:
            dict: A collated batch for ``model.test_step``.
        """
        self._last_names = [name for _, _, name in inputs]
        yield from super().preprocess(inputs, batch_size, **kwargs)

