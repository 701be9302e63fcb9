"""SceneInferencer: referring segmentation of whole (geo)referenced scenes.

A run is five stages, each in its own module::

    read     source.py      SceneSource: windows of the model grid as
                            8-bit RGB (rasterio, windowed; percentiles
                            once, on a decimated read)
    predict  predict.py     windows -> WindowPredictor (the model's own
                            rule; texts cleaned and encoded once)
    blend    blend.py       weighted logits of overlapping windows in a
                            row buffer; finished rows handed on
    write    write.py       logits -> probabilities, masks (the model's
                            rule) -> uint8 GeoTIFF strips; parts of
                            several processes assembled; a resampled grid
                            mapped back
    report   report.py      areas, polygons (vectorize.py), overview
                            (overview.py), summary JSON

With several processes (``tools/dist_infer_scene.sh``) each runs the
windows of its own rows of the scene into a part, the first assembles the
parts into one set of outputs (byte-identical to one process's) and
reports. Progress records (progress.py) let every part resume.
"""
import os.path as osp
import time
import warnings
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

from mmengine.config import Config
from mmengine.dist import barrier
from mmengine.utils import mkdir_or_exist

from mmrrsis.datasets.band_scaling import BandScaling
from mmrrsis.datasets.raster_io import MAX_SCENE_PIXELS, check_scene_size
from mmrrsis.utils import check_precision

from ..inference import as_pair, init_model
from ..inputs import ScalingType, pair_inputs
from ..pipeline import InferencePipeline, config_scaling
from ..predictor import WindowPredictor
from .blend import BLEND_MODES
from .parts import SceneJob, assemble_parts, predict_part
from .predict import ProgressFn, WindowPlan, training_size, with_bar
from .progress import RunState, run_fingerprint
from .report import SceneResult, report, write_summary
from .source import SceneSource, import_rasterio
from .write import BLOCK


class SceneInferencer:
    """Masks and polygons of referring expressions on whole scenes.

    Reads a scene (a GeoTIFF of any size, dtype and band count, or a plain
    PNG / JPEG) window by window, turns the chosen bands into the model's
    8-bit RGB explicitly (:class:`BandScaling`), slides windows of the
    model's training size with overlap through the
    :class:`~mmrrsis.apis.WindowPredictor` (the expressions cleaned and
    encoded once per run; a late-fusion model encodes each window once),
    blends the overlapping logits with separable weights (Hann by default,
    so there are no seams), turns them into probabilities and masks with
    the model's own rule, and writes per expression a mask and a score
    GeoTIFF (tiled, compressed, the scene's CRS, transform and size,
    nodata 255), then one polygon layer (GeoJSON, and GeoPackage with
    pyogrio), an overview PNG and a summary JSON.

    Memory does not grow with the scene's height: besides the model, a run
    holds one window and a buffer of (E, C, crop_h + 256, W) float32
    logits. An interrupted run resumes from the last rows written (same
    scene, model, expressions and settings; anything else starts over).

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
            any code it names; only for files you trust. Defaults to False.
        precision (str): ``'fp32'``, ``'bf16'`` or ``'fp16'``
            (:mod:`mmrrsis.utils.precision`). Defaults to 'fp32'.

    Example::

        inferencer = SceneInferencer('configs/lgce_synthetic.py',
                                     'work_dirs/lgce_synthetic/epoch_10.pth')
        result = inferencer('scene.tif', ['long truck', 'building along '
                            'the road'], 'out/',
                            scaling=dict(bands=(3, 2, 1),
                                         scale='percentile'))
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
                 unsafe_load: bool = False,
                 precision: str = 'fp32') -> None:
        if blend not in BLEND_MODES:
            raise ValueError(f'blend must be one of {BLEND_MODES}, got '
                             f'{blend!r}')
        if batch_size is not None and batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if weights is None:
            warnings.warn('SceneInferencer: no checkpoint given, the masks '
                          'come from random weights.')
        self.model = init_model(model, checkpoint=weights, device=device,
                                cfg_options=cfg_options,
                                unsafe_load=unsafe_load)
        self.config_name = str(model) if isinstance(model,
                                                    (str, Path)) else None
        self.weights = weights
        # windows come from SceneSource as 8-bit RGB already: no scaling
        self.pipeline = InferencePipeline(
            self.model.cfg, keep_size=True, scaling={})
        #: the config's band selection and scaling (LoadRSImageFromFile)
        self.config_scaling = config_scaling(self.model.cfg)
        crop = (as_pair(crop_size, 'crop_size') if crop_size is not None else
                training_size(self.model))
        step = (as_pair(stride, 'stride') if stride is not None else
                (max(1, crop[0] * 2 // 3), max(1, crop[1] * 2 // 3)))
        if step[0] > crop[0] or step[1] > crop[1]:
            raise ValueError(f'stride {step} larger than crop_size {crop} '
                             'would leave pixels out')
        self.plan = WindowPlan(crop, step, blend, blend_floor)
        self.batch_size = batch_size
        self.precision = check_precision(
            precision, str(next(self.model.parameters()).device))
        self.gdal_cache_mb = int(gdal_cache_mb)
        #: training ground resolution stated by the config (``train_gsd``)
        self.train_gsd = self.model.cfg.get('train_gsd')

    @property
    def crop_size(self) -> Tuple[int, int]:
        return self.plan.crop

    @property
    def stride(self) -> Tuple[int, int]:
        return self.plan.stride

    @property
    def blend(self) -> str:
        return self.plan.blend

    def predictor(self, texts: Sequence[str]) -> WindowPredictor:
        """The window predictor of these expressions (encoded now)."""
        return WindowPredictor(self.model, texts, self.pipeline,
                               self.batch_size, self.precision)

    # --------------------------------------------------------------- run
    def __call__(self,
                 scene: Union[str, Path],
                 texts: Union[str, Sequence[str]],
                 out_dir: Union[str, Path],
                 scaling: ScalingType = None,
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
                 max_pixels: Optional[int] = MAX_SCENE_PIXELS,
                 ranks: Optional[Tuple[int, int]] = None
                 ) -> Optional[SceneResult]:
        """Segment every expression on a scene and write the results.

        Args:
            scene (str | Path): The scene file.
            texts (str | Sequence[str]): Expression(s).
            out_dir (str | Path): Output folder (created).
            scaling (BandScaling | dict, optional): Band selection and
                scaling, e.g. ``dict(bands=(3, 2, 1), scale='percentile')``
                (percentiles computed once on a decimated read of the
                whole scene). Defaults to None: the settings of the
                config's ``LoadRSImageFromFile`` (none in the shipped
                configs: the scene must be 8-bit RGB).
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
            ranks (tuple[int, int], optional): ``(rank, world_size)``:
                this process runs its share of the scene's rows; every
                process of the group calls with the same arguments, the
                first writes the outputs and returns the result, the
                others return None. Defaults to None (one process).

        Returns:
            SceneResult | None: The files written and the summary.

        Raises:
            UnsupportedRasterError: A path or format the raster opener
                refuses (a VRT without ``allow_vrt``, a URL, ...).
            RasterDecodeError: Damaged or truncated data (the file, band
                and window named).
            RasterSizeError: Above the size rule.
        """
        start = time.perf_counter()
        job = self._job(scene, texts, out_dir, scaling, gsd, resume,
                        progress, show_progress)
        rank, world = ranks or (0, 1)
        rasterio = import_rasterio()
        with rasterio.Env(GDAL_CACHEMAX=self.gdal_cache_mb), \
                SceneSource(job.scene, job.scaling, job.gsd,
                            allow_vrt=allow_vrt) as source:
            # before anything reads the scene (source.range reads it)
            self.check_size(source, len(job.texts), max_pixels)
            fingerprint = run_fingerprint(job, source, self.plan,
                                          self.config_name,
                                          self.weights,
                                          self.precision)
            state = RunState(
                osp.join(job.out_dir, f'.{job.stem}.progress.json'),
                fingerprint)
            record = state.load() if resume else None
            done = bool(record and record.get('complete') and all(
                osp.isfile(p) for p in job.masks + job.scores))
            parts = []
            if not done:
                predict_part(job, source, self.plan, self.predictor,
                             fingerprint, rank, world)
                if world > 1:
                    barrier()
                if rank != 0:
                    return None
                tags = dict(software='mmrrsis SceneInferencer',
                            config=self.config_name or '',
                            weights=str(self.weights))
                parts = assemble_parts(job, source, self.predictor,
                                       fingerprint, world, tags)
                state.save(complete=True, parts=parts)
            elif rank != 0:
                return None
            run = dict(
                model=dict(config=self.config_name, weights=self.weights,
                           random_weights=self.weights is None,
                           precision=self.precision),
                windows=dict(crop_size=list(self.plan.crop),
                             stride=list(self.plan.stride),
                             blend=self.plan.blend,
                             blend_floor=self.plan.blend_floor),
                scaling=job.scaling.to_dict())
            result = report(job, source, run, vectors, gpkg, min_area,
                            simplify, overview)
        result.summary.update(
            windows_run=sum(p['windows_run'] for p in parts),
            resumed_from_row=parts[0]['resumed_from_row'] if parts else 0,
            parts=parts,
            already_complete=done,
            seconds=round(time.perf_counter() - start, 3))
        write_summary(result.summary,
                      osp.join(job.out_dir, f'{job.stem}_summary.json'))
        return result

    def _job(self, scene, texts, out_dir, scaling, gsd, resume, progress,
             show_progress) -> SceneJob:
        """Check and resolve the arguments of a call."""
        scene = str(scene)
        if osp.isdir(scene):
            raise IsADirectoryError(f'{scene} is a directory, not a scene '
                                    'file')
        texts = [t for _, t in pair_inputs(scene, texts)]
        if gsd == 'config':
            if self.train_gsd is None:
                raise ValueError(
                    "gsd='config' needs `train_gsd` (the training ground "
                    'resolution, e.g. train_gsd = 0.13) in the config; pass '
                    'a number instead.')
            gsd = float(self.train_gsd)
        scaling = BandScaling.from_value(scaling) or self.config_scaling
        mkdir_or_exist(str(out_dir))
        if show_progress:
            progress = with_bar(progress)
        return SceneJob(scene, texts, str(out_dir), scaling,
                        None if gsd is None else float(gsd), resume,
                        progress)

    def check_size(self, source: SceneSource, expressions: int,
                   max_pixels: Optional[int] = MAX_SCENE_PIXELS) -> int:
        """The size rule of a run (see
        :func:`~mmrrsis.datasets.raster_io.check_scene_size`), on the open
        scene before any pixel is read.

        Returns:
            int: The pixels the run computes.

        Raises:
            RasterSizeError: Above the rule's limits.
        """
        return check_scene_size(
            source.path, self.plan.rows(source.height),
            self.plan.cols(source.width), expressions,
            int(self.model.out_channels),
            min(source.height, self.plan.crop[0] + BLOCK), max_pixels,
            source.dataset.max_read_pixels)

    @staticmethod
    def evaluate(result: SceneResult, gt_paths: Sequence[str]) -> dict:
        """oIoU / mIoU of a result's masks against ground-truth rasters
        (:func:`~mmrrsis.apis.scene.evaluate_scene_masks`)."""
        from .evaluate import evaluate_scene_masks
        return evaluate_scene_masks(result.masks, gt_paths)
