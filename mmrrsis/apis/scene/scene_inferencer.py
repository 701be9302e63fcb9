"""SceneInferencer: referring segmentation of whole (geo)referenced scenes.

Call flow of one run::

    SceneSource(scene, BandScaling, gsd)      rasterio, windowed reads;
                                              percentiles once, decimated
    texts -> test pipeline (text cleaning) -> model.encode_text   (once)
    for each row of windows (model grid):
        for each window:  read -> 8-bit RGB -> BGR -> test pipeline
                          -> model.data_preprocessor
                          -> model.encode_decode(E copies, E texts)
                          -> logits * blend weights  into the row buffer
        rows no later window touches -> mean logits -> outputs (on disk),
                                        progress record updated
    [gsd: model-grid probabilities -> bilinear back to the scene grid]
    masks -> polygons (strips) -> GeoJSON / GeoPackage; overview PNG;
    summary JSON
"""
import os
import os.path as osp
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.utils import ProgressBar, mkdir_or_exist
from PIL import Image

from mmrrsis.apis import InferencePipeline, as_pair, init_model, pair_inputs
from mmrrsis.datasets.band_scaling import BandScaling
from mmrrsis.datasets.raster_io import MAX_SCENE_PIXELS, check_scene_size

from .evaluate import evaluate_scene_masks
from .outputs import (
    BLOCK,
    NODATA,
    SCORE_SCALE,
    RunState,
    StripWriter,
    colour_of,
    file_fingerprint,
    output_names,
    raster_profile,
)
from .overview import draw_overview, read_decimated_mask
from .source import SceneSource, import_rasterio, quiet_georeferencing
from .vectorize import vectorize_masks
from .windows import BLEND_MODES, blend_weights, window_spans

ProgressFn = Callable[[int, int], None]
#: Rows converted from logits to outputs at a time.
CHUNK_ROWS = 32


@dataclass
class SceneResult:
    """What a scene run wrote.

    Attributes:
        texts (list[str]): The expressions, in output order.
        masks (list[str]): uint8 mask GeoTIFF per expression (0
            background, 1 target, 255 nodata).
        scores (list[str]): uint8 score GeoTIFF per expression
            (probability * 254, 255 nodata; GDAL scale 1/254).
        geojson (str, optional): The polygons.
        gpkg (str, optional): The same as a GeoPackage.
        overview (str, optional): The overview PNG.
        summary (dict): Also written as ``<stem>_summary.json``.
    """
    texts: List[str]
    masks: List[str]
    scores: List[str]
    geojson: Optional[str] = None
    gpkg: Optional[str] = None
    overview: Optional[str] = None
    summary: dict = field(default_factory=dict)


def training_size(model: torch.nn.Module,
                  pipeline: InferencePipeline) -> Tuple[int, int]:
    """The (h, w) a model was trained at: its slide ``crop_size``, else the
    ``Resize`` scale of its test pipeline.

    Raises:
        ValueError: Neither is there.
    """
    test_cfg = getattr(model, 'test_cfg', None) or {}
    if test_cfg.get('mode') == 'slide' and test_cfg.get('crop_size'):
        return as_pair(test_cfg['crop_size'], 'crop_size')
    for step in getattr(pipeline.transforms, 'transforms', []):
        if type(step).__name__ == 'Resize' and getattr(step, 'scale', None):
            w, h = step.scale  # mmcv's Resize takes (w, h)
            return int(h), int(w)
    raise ValueError('Cannot tell the training size of the model (no slide '
                     'crop_size, no Resize in the test pipeline); pass '
                     'crop_size.')


def area_unit(crs) -> str:
    """``m^2`` for a metric CRS, ``<unit>^2`` otherwise, ``px`` without."""
    if crs is None:
        return 'px'
    unit = (crs.linear_units or '').lower()
    if unit in ('metre', 'meter', 'm', 'metres', 'meters'):
        return 'm^2'
    return f'{unit or "unit"}^2'


def upsample_rows(src, y0: int, y1: int, sy: float, sx: float,
                  width: int) -> np.ndarray:
    """Rows [y0, y1) of a fine grid, bilinear from a coarse raster.

    Pixel centres are aligned (``coarse = (fine + 0.5) / s - 0.5``,
    clamped at the borders); only the coarse rows needed are read, so
    strips join without seams.

    Args:
        src: An open rasterio dataset (the coarse grid, band 1).
        y0, y1 (int): Fine rows.
        sy, sx (float): Fine pixels per coarse pixel.
        width (int): Fine width.

    Returns:
        np.ndarray: (y1 - y0, width) float32.
    """
    from rasterio.windows import Window
    ys = np.clip((np.arange(y0, y1) + 0.5) / sy - 0.5, 0, src.height - 1)
    m0 = int(np.floor(ys.min()))
    m1 = min(int(np.floor(ys.max())) + 2, src.height)
    strip = src.read(1, window=Window(0, m0, src.width, m1 - m0))
    strip = strip.astype(np.float32)
    yi = np.floor(ys).astype(int)
    fy = (ys - yi).astype(np.float32)[:, None]
    y_lo = yi - m0
    y_hi = np.minimum(y_lo + 1, m1 - m0 - 1)
    rows = strip[y_lo] * (1 - fy) + strip[y_hi] * fy
    xs = np.clip((np.arange(width) + 0.5) / sx - 0.5, 0, src.width - 1)
    xi = np.floor(xs).astype(int)
    fx = (xs - xi).astype(np.float32)
    x_hi = np.minimum(xi + 1, src.width - 1)
    return rows[:, xi] * (1 - fx) + rows[:, x_hi] * fx


def count_targets(path: str, strip_rows: int = 1024) -> int:
    """Pixels of value 1 in a mask raster (read in strips)."""
    rasterio = import_rasterio()
    from rasterio.windows import Window
    total = 0
    with quiet_georeferencing(), rasterio.open(path) as src:
        for y0 in range(0, src.height, strip_rows):
            rows = min(strip_rows, src.height - y0)
            total += int((src.read(1, window=Window(0, y0, src.width, rows))
                          == 1).sum())
    return total


class SceneInferencer:
    """Masks and polygons of referring expressions on whole scenes.

    Reads a scene (a GeoTIFF of any size, dtype and band count, or a plain
    PNG / JPEG) window by window with rasterio, turns the chosen bands into
    the model's 8-bit RGB explicitly (:class:`BandScaling`), slides windows
    of the model's training size with overlap and blends the overlapping
    logits with separable weights (Hann by default, so there are no seams
    at window borders), runs all expressions of a window in one batch with
    the text encoded once per run, and writes per expression a mask and a
    score GeoTIFF (tiled, compressed, the scene's CRS, transform and size,
    nodata 255) row of windows by row of windows, then one vector layer of
    polygons (GeoJSON, and GeoPackage with pyogrio), an overview PNG and a
    summary JSON.

    Memory does not grow with the scene's height: besides the model, a run
    holds one window and a buffer of (E, C, crop_h + 256, W) float32
    logits (one row of windows plus one block row). An interrupted run
    resumes from the last rows written (same scene, model, expressions and
    settings; anything else starts over).

    Args:
        model (str | Config): Config file or object.
        weights (str, optional): Checkpoint. Defaults to None (random
            weights, with a warning).
        device (str, optional): Defaults to None (CUDA when available).
        crop_size (int | tuple[int, int], optional): Window (h, w).
            Defaults to None (the training size: the slide crop or the test
            pipeline's Resize).
        stride (int | tuple[int, int], optional): Window step. Defaults to
            None (two thirds of the window).
        blend (str): ``'hann'``, ``'triangular'`` or ``'uniform'`` (plain
            averaging, as mmseg's slide inference). Defaults to 'hann'.
        blend_floor (float): Smallest 1-D blending weight. Defaults to
            0.05.
        batch_size (int, optional): Most expressions per forward pass.
            Defaults to None (all of them).
        gdal_cache_mb (int): GDAL's block cache during a run (GDAL's own
            default, 5% of the RAM, would let memory grow with the scene).
            Defaults to 256.
        cfg_options (dict, optional): Overrides merged into the config.
            Defaults to None.
        unsafe_load (bool): Unpickle the checkpoint completely, which runs
            any code it names; only for files you trust. Defaults to False
            (weights only, see :func:`~mmrrsis.apis.load_checkpoint_checked`).

    Example::

        inferencer = SceneInferencer('configs/lgce_synthetic.py',
                                     'work_dirs/lgce_synthetic/epoch_10.pth')
        result = inferencer('scene.tif', ['long truck', 'building along '
                            'the road'], 'out/', bands=(3, 2, 1),
                            scale='percentile')
        result.masks, result.geojson, result.summary['expressions']
    """

    def __init__(self,
                 model: Union[str, Path, Config],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 crop_size: Union[int, Tuple[int, int], None] = None,
                 stride: Union[int, Tuple[int, int], None] = None,
                 blend: str = 'hann',
                 blend_floor: float = 0.05,
                 batch_size: Optional[int] = None,
                 gdal_cache_mb: int = 256,
                 cfg_options: Optional[dict] = None,
                 unsafe_load: bool = False) -> None:
        if blend not in BLEND_MODES:
            raise ValueError(f'blend must be one of {BLEND_MODES}, got '
                             f'{blend!r}')
        if weights is None:
            warnings.warn('SceneInferencer: no checkpoint given, the masks '
                          'come from random weights.')
        self.model = init_model(
            model,
            checkpoint=weights,
            device=device,
            cfg_options=cfg_options,
            unsafe_load=unsafe_load)
        self.config_name = str(model) if isinstance(model,
                                                    (str, Path)) else None
        self.weights = weights
        # windows come from SceneSource as 8-bit RGB already: no scaling
        self.pipeline = InferencePipeline(
            self.model.cfg, keep_size=True, scaling={})
        as_trained = InferencePipeline(self.model.cfg)
        #: the config's band selection and scaling (LoadRSImageFromFile)
        self.config_scaling = as_trained.loader.scaling
        crop = (as_pair(crop_size, 'crop_size') if crop_size is not None else
                training_size(self.model, as_trained))
        step = (as_pair(stride, 'stride') if stride is not None else
                (max(1, crop[0] * 2 // 3), max(1, crop[1] * 2 // 3)))
        if step[0] > crop[0] or step[1] > crop[1]:
            raise ValueError(f'stride {step} larger than crop_size {crop} '
                             'would leave pixels out')
        self.crop_size, self.stride = crop, step
        self.blend, self.blend_floor = blend, blend_floor
        if batch_size is not None and batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.batch_size = batch_size
        self.gdal_cache_mb = int(gdal_cache_mb)
        self.num_classes = int(self.model.out_channels)
        head = getattr(self.model, 'decode_head', None)
        self.threshold = (float(getattr(head, 'threshold', None) or 0.5)
                          if self.num_classes == 1 else 0.5)
        #: training ground resolution stated by the config (``train_gsd``)
        self.train_gsd = self.model.cfg.get('train_gsd')

    # ---------------------------------------------------------- the model
    def _clean_texts(self, texts: Sequence[str]) -> List[str]:
        """The expressions as the test pipeline hands them to the model."""
        dummy = np.zeros((8, 8, 3), np.uint8)
        return [
            self.pipeline((dummy, t))['data_samples'].metainfo['text']
            for t in texts
        ]

    def _window_logits(self, rgb: np.ndarray, texts: List[str],
                       text_feats) -> np.ndarray:
        """(E, C, h, w) logits of every expression on one window."""
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        packed = self.pipeline((bgr, texts[0]))
        data = self.model.data_preprocessor(
            dict(inputs=[packed['inputs']],
                 data_samples=[packed['data_samples']]), False)
        inputs = data['inputs']
        meta = data['data_samples'][0].metainfo
        num = len(texts)
        size = self.batch_size or num
        out = []
        for s in range(0, num, size):
            n = min(size, num - s)
            feats = text_feats.rows(slice(s, s + n))
            metas = [
                dict(meta, text=texts[s + i], img_shape=inputs.shape[2:])
                for i in range(n)
            ]
            batch = inputs.expand(n, -1, -1, -1).contiguous()
            out.append(self.model.encode_decode(batch, metas, feats))
        return torch.cat(out).float().cpu().numpy()

    def _probabilities(self, mean: np.ndarray
                       ) -> Tuple[np.ndarray, np.ndarray]:
        """Target probability and mask from (E, C, r, W) mean logits."""
        if self.num_classes == 1:
            prob = 1. / (1. + np.exp(-mean[:, 0]))
            return prob, prob > self.threshold
        target = mean.argmax(axis=1) == 1
        shifted = np.exp(mean - mean.max(axis=1, keepdims=True))
        prob = shifted[:, 1] / shifted.sum(axis=1)
        return prob, target

    # --------------------------------------------------------------- run
    def __call__(self,
                 scene: Union[str, Path],
                 texts: Union[str, Sequence[str]],
                 out_dir: Union[str, Path],
                 bands: Optional[Sequence[int]] = None,
                 scale: Optional[str] = None,
                 percentiles: Tuple[float, float] = (2., 98.),
                 min_value=None,
                 max_value=None,
                 gsd: Union[float, str, None] = None,
                 vectors: bool = True,
                 gpkg: bool = True,
                 min_area: float = 0.,
                 simplify: float = 0.,
                 overview: bool = True,
                 resume: bool = True,
                 show_progress: bool = True,
                 progress: Optional[ProgressFn] = None,
                 allow_vrt: bool = False,
                 max_pixels: Optional[int] = MAX_SCENE_PIXELS
                 ) -> SceneResult:
        """Segment every expression on a scene and write the results.

        Args:
            scene (str | Path): The scene file.
            texts (str | Sequence[str]): Expression(s).
            out_dir (str | Path): Output folder (created).
            bands (Sequence[int], optional): 1-based bands for R, G, B.
                Defaults to None (the scene's three bands).
            scale (str, optional): ``'percentile'`` (computed once on a
                decimated read of the whole scene), ``'minmax'`` or None
                (the scene must be 8-bit). Defaults to None. Without any
                of ``bands``, ``scale``, ``min_value`` and ``max_value``,
                the settings of the config's ``LoadRSImageFromFile`` apply
                (none in the shipped configs; its percentiles are then
                taken over the scene, not per tile).
            percentiles (tuple[float, float]): Defaults to (2., 98.).
            min_value (float | Sequence[float], optional): For 'minmax'.
            max_value (float | Sequence[float], optional): For 'minmax'.
            gsd (float | str, optional): Ground resolution (CRS units per
                pixel) to run the model at, or ``'config'`` for the
                config's ``train_gsd``; results are mapped back to the
                scene's grid. Defaults to None (the scene's own grid).
            vectors (bool): Write the polygon layer. Defaults to True.
            gpkg (bool): Also as a GeoPackage (needs pyogrio). Defaults to
                True.
            min_area (float): Smallest polygon (CRS units squared).
                Defaults to 0.
            simplify (float): Polygon simplification tolerance (CRS
                units). Defaults to 0.
            overview (bool): Write the overview PNG. Defaults to True.
            resume (bool): Continue an interrupted run of the same
                settings. Defaults to True.
            show_progress (bool): Progress bar over windows. Defaults to
                True.
            progress (callable, optional): Called as ``progress(done,
                total)`` after each window. Defaults to None.
            allow_vrt (bool): Open a VRT mosaic (e.g. from gdalbuildvrt)
                of local GeoTIFF / PNG / JPEG files; the VRT is checked
                first (:func:`~mmrrsis.datasets.raster_io.check_vrt`).
                Defaults to False (a VRT is refused).
            max_pixels (int, optional): The size rule: most pixels the run
                may compute (windows x window pixels x expressions, on the
                model grid), checked before any pixel is read; None: no
                limit. Defaults to
                :data:`~mmrrsis.datasets.raster_io.MAX_SCENE_PIXELS`.

        Returns:
            SceneResult: The files written and the summary.

        Raises:
            UnsupportedRasterError: A path or format the raster opener
                refuses (a VRT without ``allow_vrt``, a URL, ...).
            RasterDecodeError: Damaged or truncated data (the file, band
                and window named).
            RasterSizeError: Above the size rule.
        """
        rasterio = import_rasterio()
        with rasterio.Env(GDAL_CACHEMAX=self.gdal_cache_mb):
            return self._run(scene, texts, out_dir, bands, scale,
                             percentiles, min_value, max_value, gsd, vectors,
                             gpkg, min_area, simplify, overview, resume,
                             show_progress, progress, allow_vrt, max_pixels)

    def _run(self, scene, texts, out_dir, bands, scale, percentiles,
             min_value, max_value, gsd, vectors, gpkg, min_area, simplify,
             overview, resume, show_progress, progress, allow_vrt,
             max_pixels) -> SceneResult:
        start = time.perf_counter()
        scene = str(scene)
        if osp.isdir(scene):
            raise IsADirectoryError(f'{scene} is a directory, not a scene '
                                    'file')
        pairs = pair_inputs(scene, texts)
        texts = [t for _, t in pairs]
        if gsd == 'config':
            if self.train_gsd is None:
                raise ValueError(
                    "gsd='config' needs `train_gsd` (the training ground "
                    'resolution, e.g. train_gsd = 0.13) in the config; pass '
                    'a number instead.')
            gsd = float(self.train_gsd)
        if (bands, scale, min_value, max_value) == (None, ) * 4:
            scaling = self.config_scaling
        else:
            scaling = BandScaling(bands, scale, percentiles, min_value,
                                  max_value)
        out_dir = str(out_dir)
        mkdir_or_exist(out_dir)
        stem = osp.splitext(osp.basename(scene))[0]
        names = output_names(stem, texts)
        masks = [osp.join(out_dir, n['mask']) for n in names]
        scores = [osp.join(out_dir, n['score']) for n in names]
        with SceneSource(scene, scaling, gsd, allow_vrt=allow_vrt) as source:
            self.check_size(source, len(texts), max_pixels)
            state = RunState(
                osp.join(out_dir, f'.{stem}.progress.json'),
                self._fingerprint(scene, texts, scaling, source))
            record = state.load() if resume else None
            if record is not None and not all(
                    osp.isfile(p) for p in self._pass_files(
                        source, out_dir, stem, masks, scores)):
                record = None  # outputs removed since: start over
            done = bool(record and record.get('complete'))
            resumed_from = 0 if record is None else record.get('rows_done', 0)
            num_windows = 0
            if not done:
                num_windows = self._infer(source, texts, out_dir, stem,
                                          masks, scores, state, record,
                                          show_progress, progress)
            state.save(rows_done=source.height, complete=True)
            summary = self._summarize(scene, source, scaling, texts, masks,
                                      scores)
            result = SceneResult(texts, masks, scores, summary=summary)
            if vectors:
                vec = vectorize_masks(
                    masks, scores, texts,
                    osp.join(out_dir, f'{stem}.geojson'),
                    osp.join(out_dir, f'{stem}.gpkg') if gpkg else None,
                    min_area=min_area, simplify=simplify)
                result.geojson, result.gpkg = vec['geojson'], vec['gpkg']
                for item, count in zip(summary['expressions'],
                                       vec['polygons']):
                    item['polygons'] = count
                summary['vectors'] = dict(
                    geojson=result.geojson, gpkg=result.gpkg,
                    min_area=min_area, simplify=simplify)
            if overview:
                result.overview = osp.join(out_dir, f'{stem}_overview.png')
                self.write_overview(source, result, result.overview)
        seconds = time.perf_counter() - start
        summary.update(
            windows_run=num_windows,
            resumed_from_row=resumed_from,
            already_complete=done,
            seconds=round(seconds, 3))
        _write_json(osp.join(out_dir, f'{stem}_summary.json'), summary)
        return result

    def check_size(self, source: SceneSource, expressions: int,
                   max_pixels: Optional[int] = MAX_SCENE_PIXELS) -> int:
        """The size rule of a run (see
        :func:`~mmrrsis.datasets.raster_io.check_scene_size`).

        Returns:
            int: The pixels the run computes.

        Raises:
            RasterSizeError: Above the rule's limits.
        """
        return check_scene_size(
            source.path,
            window_spans(source.height, self.crop_size[0], self.stride[0]),
            window_spans(source.width, self.crop_size[1], self.stride[1]),
            expressions, self.num_classes,
            min(source.height, self.crop_size[0] + BLOCK), max_pixels,
            source.dataset.max_read_pixels)

    def _fingerprint(self, scene: str, texts: List[str],
                     scaling: BandScaling, source: SceneSource) -> dict:
        return dict(
            scene=file_fingerprint(scene),
            config=file_fingerprint(self.config_name),
            weights=file_fingerprint(self.weights),
            texts=texts,
            crop_size=self.crop_size,
            stride=self.stride,
            blend=[self.blend, self.blend_floor],
            scaling=scaling.to_dict(),
            range=source.range.to_dict() if source.range else None,
            grid=[source.height, source.width])

    def _infer(self, source: SceneSource, texts: List[str], out_dir: str,
               stem: str, masks: List[str], scores: List[str],
               state: RunState, record: Optional[dict], show_progress: bool,
               progress: Optional[ProgressFn]) -> int:
        """Run the windows (from the first unfinished row) and write."""
        resume = record is not None
        start_row = int(record.get('rows_done', 0)) if resume else 0
        if source.resampled:
            probs = self._pass_files(source, out_dir, stem, masks, scores)
            mkdir_or_exist(osp.dirname(probs[0]))
            prob_writer = StripWriter(
                probs,
                raster_profile(source.height, source.width, source.crs,
                               source.transform, 'float32', None),
                create=not resume)

            def sink(y0, acc, wsum, valid):
                prob_writer.write(y0, self._convert(acc, wsum, valid)[0])
        else:
            writers = self._final_writers(source, texts, masks, scores,
                                          create=not resume)

            def sink(y0, acc, wsum, valid):
                mask, score = self._convert(acc, wsum, valid, quantize=True)
                writers[0].write(y0, mask)
                writers[1].write(y0, score)

        with torch.no_grad():
            clean = self._clean_texts(texts)
            text_feats = self.model.encode_text(clean)
            num = self._run_windows(source, clean, text_feats, sink, state,
                                    start_row, show_progress, progress)
        if source.resampled:
            writers = self._final_writers(source, texts, masks, scores,
                                          create=True)
            self._map_back(source, probs, writers)
        return num

    @staticmethod
    def _pass_files(source: SceneSource, out_dir: str, stem: str,
                    masks: List[str], scores: List[str]) -> List[str]:
        """The files the windowed pass writes: the masks and scores, or
        with ``gsd`` the model-grid probabilities."""
        if not source.resampled:
            return masks + scores
        grid_dir = osp.join(out_dir, f'.{stem}_model_grid')
        return [
            osp.join(grid_dir,
                     osp.basename(p).replace('_score.tif', '_prob.tif'))
            for p in scores
        ]

    def _final_writers(self, source: SceneSource, texts: List[str],
                       masks: List[str], scores: List[str],
                       create: bool) -> Tuple[StripWriter, StripWriter]:
        profile = raster_profile(source.scene_height, source.scene_width,
                                 source.crs, source.scene_transform, 'uint8',
                                 NODATA)
        tags = dict(
            software='mmrrsis SceneInferencer',
            config=self.config_name or '',
            weights=str(self.weights))
        colours = [colour_of(k) for k in range(len(texts))]
        return (StripWriter(masks, profile, texts, tags, colours,
                            create=create),
                StripWriter(scores, profile, texts, tags,
                            scale=1. / SCORE_SCALE, create=create))

    def _convert(self, acc: np.ndarray, wsum: np.ndarray, valid: np.ndarray,
                 quantize: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """Finished rows: accumulated logits -> outputs, a few rows at a
        time (the temporaries stay small).

        Args:
            acc (np.ndarray): (E, C, k, W) weighted logit sums.
            wsum (np.ndarray): (k, W) weight sums (0: no window ran).
            valid (np.ndarray): (k, W) bool, not nodata.
            quantize (bool): Return the uint8 mask and score rasters
                (0/1/255, probability * 254 / 255); else the float32
                target probability (0 where invalid) and the bool mask.

        Returns:
            tuple[np.ndarray, np.ndarray]: (E, k, W) each.
        """
        num, _, rows, width = acc.shape
        if quantize:
            first = np.empty((num, rows, width), np.uint8)
            second = np.empty((num, rows, width), np.uint8)
        else:
            first = np.empty((num, rows, width), np.float32)
            second = np.empty((num, rows, width), bool)
        for a in range(0, rows, CHUNK_ROWS):
            b = min(a + CHUNK_ROWS, rows)
            weight = wsum[a:b]
            ok = valid[a:b] & (weight > 0)
            mean = acc[:, :, a:b] / np.where(weight > 0, weight, 1.)
            prob, target = self._probabilities(mean)
            if quantize:
                first[:, a:b] = np.where(ok, target, NODATA)
                second[:, a:b] = np.where(
                    ok, np.rint(prob * SCORE_SCALE).astype(np.uint8), NODATA)
            else:
                first[:, a:b] = np.where(ok, prob, 0.)
                second[:, a:b] = target & ok
        return first, second

    @staticmethod
    def _write_final(writers, y0: int, prob: np.ndarray, target: np.ndarray,
                     valid: np.ndarray) -> None:
        mask = np.where(valid, target.astype(np.uint8), NODATA)
        score = np.where(valid, np.rint(prob * SCORE_SCALE), NODATA)
        writers[0].write(y0, mask.astype(np.uint8))
        writers[1].write(y0, score.astype(np.uint8))

    def _run_windows(self, source: SceneSource, texts: List[str], text_feats,
                     sink, state: RunState, start_row: int,
                     show_progress: bool,
                     progress: Optional[ProgressFn]) -> int:
        """Slide the windows; hand finished rows to ``sink``."""
        height, width = source.height, source.width
        rows = window_spans(height, self.crop_size[0], self.stride[0])
        cols = window_spans(width, self.crop_size[1], self.stride[1])
        first = next(
            (r for r, (_, y2) in enumerate(rows) if y2 > start_row),
            len(rows))
        total = len(rows) * len(cols)
        done = first * len(cols)
        bar = ProgressBar(total) if show_progress and total > done else None
        if bar is not None and done:
            bar.update(done)
        cap = min(height, self.crop_size[0] + BLOCK)
        num = len(texts)
        acc = np.zeros((num, self.num_classes, cap, width), np.float32)
        wsum = np.zeros((cap, width), np.float32)
        top = start_row
        run = 0
        for r in range(first, len(rows)):
            y1, y2 = rows[r]
            a = max(y1, top)
            for x1, x2 in cols:
                rgb, valid = source.read(y1, y2, x1, x2)
                if valid.any():
                    logits = self._window_logits(rgb, texts, text_feats)
                    w = blend_weights(y2 - y1, x2 - x1, self.blend,
                                      self.blend_floor)[a - y1:]
                    acc[:, :, a - top:y2 - top, x1:x2] += (
                        logits[:, :, a - y1:] * w)
                    wsum[a - top:y2 - top, x1:x2] += w
                    run += 1
                done += 1
                if bar is not None:
                    bar.update()
                if progress is not None:
                    progress(done, total)
            if r + 1 < len(rows):
                final = rows[r + 1][0] // BLOCK * BLOCK
            else:
                final = height
            if final <= top:
                continue
            k = final - top
            sink(top, acc[:, :, :k], wsum[:k], source.valid(top, final))
            _shift_rows(acc, k, axis=2)
            _shift_rows(wsum, k, axis=0)
            top = final
            state.save(rows_done=top, complete=False)
        if bar is not None:
            print()
        return run

    def _map_back(self, source: SceneSource, probs: List[str],
                  writers: Tuple[StripWriter, StripWriter]) -> None:
        """Model-grid probabilities -> masks and scores on the scene grid.
        """
        rasterio = import_rasterio()
        strip = BLOCK
        height, width = source.scene_height, source.scene_width
        datasets = [rasterio.open(p) for p in probs]
        try:
            for y0 in range(0, height, strip):
                y1 = min(y0 + strip, height)
                prob = np.stack([
                    upsample_rows(ds, y0, y1, source.sy, source.sx, width)
                    for ds in datasets
                ])
                target = prob > (self.threshold
                                 if self.num_classes == 1 else 0.5)
                self._write_final(writers, y0, prob, target,
                                  source.scene_valid(y0, y1))
        finally:
            for ds in datasets:
                ds.close()

    # ----------------------------------------------------------- reports
    def _summarize(self, scene: str, source: SceneSource,
                   scaling: BandScaling, texts: List[str], masks: List[str],
                   scores: List[str]) -> dict:
        t = source.scene_transform
        pixel_area = abs(t.a * t.e - t.b * t.d)
        unit = area_unit(source.crs) if source.georeferenced else 'px'
        items = []
        for k, (text, mask, score) in enumerate(zip(texts, masks, scores)):
            pixels = count_targets(mask)
            items.append(
                dict(index=k, text=text, mask=mask, score=score,
                     target_pixels=pixels,
                     area=pixels * (pixel_area if unit != 'px' else 1.),
                     colour=list(colour_of(k))))
        return dict(
            scene=osp.abspath(scene),
            size=[source.scene_height, source.scene_width],
            crs=source.crs.to_string() if source.crs else None,
            transform=list(t)[:6],
            georeferenced=source.georeferenced,
            area_unit=unit,
            model=dict(config=self.config_name, weights=self.weights,
                       random_weights=self.weights is None),
            model_grid=dict(
                size=[source.height, source.width],
                gsd=list(source.gsd) if source.georeferenced else None,
                resampled=source.resampled),
            windows=dict(
                crop_size=list(self.crop_size), stride=list(self.stride),
                blend=self.blend, blend_floor=self.blend_floor),
            scaling=dict(scaling.to_dict(),
                         range=source.range.to_dict()
                         if source.range else None),
            expressions=items)

    @staticmethod
    def write_overview(source: SceneSource, result: SceneResult, path: str,
                       max_side: int = 1024) -> str:
        """Write the overview PNG of a result (thumbnail, masks, legend).

        Args:
            source (SceneSource): The open scene.
            result (SceneResult): Its result.
            path (str): The PNG file.
            max_side (int): Longest side of the thumbnail. Defaults to 1024.

        Returns:
            str: ``path``.
        """
        thumb, valid = source.thumbnail(max_side)
        masks = [read_decimated_mask(m, valid.shape) for m in result.masks]
        summary = result.summary
        title = (f'prediction, {osp.basename(summary["scene"])}: '
                 f'{summary["size"][1]} x {summary["size"][0]} px')
        if summary.get('crs'):
            title += f', {summary["crs"]}'
        if summary['model'].get('random_weights'):
            title += ' (random weights)'
        picture = draw_overview(
            thumb, valid, masks, result.texts,
            [e['area'] for e in summary['expressions']],
            summary['area_unit'], title)
        Image.fromarray(picture).save(path)
        return path

    @staticmethod
    def evaluate(result: SceneResult, gt_paths: Sequence[str]) -> dict:
        """oIoU / mIoU of a result's masks against ground-truth rasters.

        See :func:`~mmrrsis.apis.scene.evaluate_scene_masks`.
        """
        return evaluate_scene_masks(result.masks, gt_paths)


def _shift_rows(array: np.ndarray, k: int, axis: int) -> None:
    """Move rows ``k:`` of ``array`` to the front along ``axis`` and zero
    the rest, in place, in pieces of at most ``k`` rows (no piece overlaps
    its source, so numpy needs no temporary copy of the buffer)."""
    n = array.shape[axis]
    view = np.moveaxis(array, axis, 0)
    for i in range(0, n - k, k):
        j = min(i + k, n - k)
        view[i:j] = view[i + k:j + k]
    view[max(n - k, 0):] = 0


def _write_json(path: str, data: dict) -> None:
    import json
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, default=str)
    os.replace(tmp, path)
