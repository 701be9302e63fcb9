"""A browser app: open a tile or a scene, type expressions, see the masks.

Gradio app on top of :class:`mmrrsis.apis.SceneInferencer` (sliding
windows with blending for any size, georeferencing kept)::

    python demo/web_app.py configs/lgce_synthetic.py \
        work_dirs/lgce_synthetic/best_oIoU_epoch_10.pth [--port 7860] \
        [--precision bf16]

The checkpoint is read without running code from it (``--unsafe-load``
unpickles it completely, for trusted files only); one that cannot be
loaded stops the start with an ``error: ...`` line.

Upload an image or a GeoTIFF (or pick a generated example), type one
expression a line and run: the page shows the image with each
expression's mask in its own colour and a legend with the area (pixels,
and m^2 when georeferenced), a mask opacity slider, and the downloads
(mask GeoTIFF and PNG per expression, GeoJSON layer). Band selection and
scaling controls appear when the file is not 8-bit RGB. Bad input (an
unreadable file, no expression, a run above ``--max-pixels``) is
answered in the page; the server keeps serving. Nothing phones home:
Gradio's analytics are off and nothing is fetched from the internet.

Uploads are opened by :func:`mmrrsis.datasets.raster_io.open_raster`
(GeoTIFF, PNG, JPEG, JPEG 2000 by content; never a VRT, a URL or a
``/vsi`` path; no side file, no network; damaged data is an error). Runs
share Gradio's queue, ``--concurrency`` at a time
(:func:`default_concurrency`), at most ``--queue-size`` waiting; every
file a request returns has a name of its own (so Gradio's cache, which
names files by content, never rewrites a file another client is
downloading), and request folders and cached files older than
``--keep-hours`` are deleted.
"""
import argparse
import html
import os
import os.path as osp
import shutil
import tempfile
import time
import traceback
import uuid
from typing import List, Optional

# before gradio is imported: no analytics, no version check, no hub calls
os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('HF_HUB_DISABLE_TELEMETRY', '1')

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mmrrsis.apis import (
    CheckpointMismatchError,  # noqa: E402
    SceneInferencer,  # noqa: E402
)
from mmrrsis.apis import scene as scene_api  # noqa: E402
from mmrrsis.apis.scene import SceneSource, draw_overview  # noqa: E402
from mmrrsis.apis.scene.overview import (
    format_area,  # noqa: E402
    read_decimated_mask,  # noqa: E402
)
from mmrrsis.apis.scene.write import colour_of  # noqa: E402
from mmrrsis.compat import (
    CorruptCheckpointError,  # noqa: E402
    UnsafeCheckpointError,  # noqa: E402
)
from mmrrsis.datasets.band_scaling import BandScaling  # noqa: E402
from mmrrsis.datasets.raster_io import (  # noqa: E402
    RasterError,
    RasterSizeError,
)
from mmrrsis.utils import PRECISIONS, add_unsafe_load_arg  # noqa: E402

#: The page's size rule: most pixels a request may compute (windows x
#: window pixels x expressions), below the scene CLI's default.
MAX_PIXELS = 100_000_000
#: Requests waiting in the queue at most (more are told to retry).
QUEUE_SIZE = 64
#: Largest upload.
MAX_FILE_SIZE = '1gb'
#: Request folders and Gradio's cached files are deleted after this.
KEEP_HOURS = 1.
FILE_TYPES = ['.tif', '.tiff', '.png', '.jpg', '.jpeg']
#: Smallest side of the picture shown (small tiles are enlarged).
DISPLAY_SIDE = 512
#: Gradio fills a ``gr.Progress`` default with the page's progress bar.
PROGRESS = gr.Progress()


class UserError(ValueError):
    """Bad input from the page, answered with a message there."""


def inspect_raster(path: str) -> dict:
    """Size, dtype, band count and suggested RGB bands of a file
    (:func:`mmrrsis.apis.scene.inspect_raster`).

    The file is opened by the raster opener (never a VRT, a URL or a
    ``/vsi`` path; see :mod:`mmrrsis.datasets.raster_io`).

    Raises:
        UserError: Not a raster file the app opens, or a damaged one.
    """
    try:
        return scene_api.inspect_raster(path, what='image')
    except (RasterError, OSError) as e:
        raise UserError(without_paths(str(e), path)) from None


def without_paths(message: str, *paths: str) -> str:
    """A message for the page: the server's folders of ``paths`` left out
    (the file is named by its name)."""
    for path in paths:
        if path:
            message = message.replace(osp.abspath(path),
                                      osp.basename(path)).replace(
                                          path, osp.basename(path))
    return message


def default_concurrency(device: Optional[str] = None) -> int:
    """Runs at a time that fit the model: 1 on a GPU (one model, one
    device: runs would queue on it anyway, and each holds a window batch
    of activations), 2 on CPUs (the model and GDAL reads of one run leave
    cores idle while another computes; each run holds one window batch and
    a row buffer, tens of MB for the models of this project)."""
    import torch
    if (device or '').startswith('cuda') or (
            device is None and torch.cuda.is_available()):
        return 1
    return 2


def needs_scaling(info: dict) -> bool:
    """Whether a file is anything but 8-bit RGB."""
    return info['dtype'] != 'uint8' or info['count'] != 3


def parse_texts(text: str) -> List[str]:
    """One expression a line; blank lines dropped.

    Raises:
        UserError: No expression.
    """
    texts = [t.strip() for t in (text or '').splitlines() if t.strip()]
    if not texts:
        raise UserError('Type at least one expression (one a line), e.g. '
                        '"building along the road".')
    return texts


def legend_html(texts: List[str], areas_px: List[int],
                areas: Optional[List[float]], unit: str) -> str:
    """The legend: colour, expression, area in pixels (and CRS units)."""
    rows = []
    for k, text in enumerate(texts):
        r, g, b = colour_of(k)
        area = f'{areas_px[k]:,} px'
        if areas is not None and unit != 'px':
            area += f' &middot; {format_area(areas[k], unit)}'
        rows.append(
            '<li class="legend-item" style="list-style:none;margin:4px 0">'
            f'<span class="legend-swatch" style="display:inline-block;'
            f'width:14px;height:14px;background:rgb({r},{g},{b});'
            'border:1px solid #000;margin-right:8px;vertical-align:middle">'
            f'</span><b>{html.escape(text)}</b>: {area}</li>')
    return '<ul id="legend" style="padding:0">' + ''.join(rows) + '</ul>'


class SegmentApp:
    """The page's logic, without the page (so it can be tested directly).

    Each request gets a folder of its own under ``work_dir``, and every
    file it returns (masks, PNGs, GeoJSON, the overlay and mask pictures)
    carries the folder's tag in its name: Gradio's cache names files by
    content and name, so two requests returning equal files would
    otherwise write the same cached file while a client downloads it
    ("Too little data for declared Content-Length"). Folders older than
    ``keep_hours`` are deleted when a request starts.

    Args:
        inferencer (SceneInferencer): The model.
        work_dir (str): Where each request's outputs go.
        max_pixels (int): The size rule: most pixels a request may compute
            (windows x window pixels x expressions). Defaults to
            :data:`MAX_PIXELS`.
        random_weights (bool): Say in the page that the weights are
            random. Defaults to False.
        keep_hours (float): Age at which request folders are deleted.
            Defaults to :data:`KEEP_HOURS`.
    """

    def __init__(self, inferencer: SceneInferencer, work_dir: str,
                 max_pixels: int = MAX_PIXELS,
                 random_weights: bool = False,
                 keep_hours: float = KEEP_HOURS) -> None:
        self.inferencer = inferencer
        self.work_dir = work_dir
        self.max_pixels = max_pixels
        self.random_weights = random_weights
        self.keep_hours = keep_hours
        os.makedirs(work_dir, exist_ok=True)

    def prune(self) -> None:
        """Delete the request folders untouched for ``keep_hours``."""
        oldest = time.time() - self.keep_hours * 3600
        for name in os.listdir(self.work_dir):
            folder = osp.join(self.work_dir, name)
            try:
                if name.startswith('run_') and osp.getmtime(folder) < oldest:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass

    def on_file(self, path: Optional[str]):
        """Show the band controls (with suggested bands) when needed."""
        if not path:
            return gr.update(visible=False), 1, 2, 3, 'none', ''
        try:
            info = inspect_raster(path)
        except UserError as e:
            return (gr.update(visible=False), 1, 2, 3, 'none',
                    f'**Error:** {e}')
        note = (f"{info['width']} x {info['height']} px, {info['count']} "
                f"band(s), {info['dtype']}"
                f"{', georeferenced' if info['georeferenced'] else ''}")
        if needs_scaling(info):
            note += ' (not 8-bit RGB: choose bands and a scaling)'
        r, g, b = info['bands']
        scale = 'none' if info['dtype'] == 'uint8' else 'percentile'
        return gr.update(visible=needs_scaling(info)), r, g, b, scale, note

    def segment(self, path, text, red, green, blue, scale, low, high,
                vmin, vmax, opacity, progress=PROGRESS):
        """Run the model; every failure becomes a message in the page.

        Returns:
            tuple: overlay image (RGB array or None), legend HTML, mask
            gallery, download files, status Markdown, state.
        """
        try:
            return self._segment(path, text, red, green, blue, scale, low,
                                 high, vmin, vmax, opacity, progress)
        except UserError as e:
            return self._failed(str(e))
        except (ValueError, FileNotFoundError, OSError) as e:
            return self._failed(without_paths(str(e), path))
        except Exception as e:  # keep serving; say what happened
            traceback.print_exc()
            return self._failed(
                without_paths(f'{type(e).__name__}: {e}', path))

    @staticmethod
    def _failed(message: str):
        text = html.escape(message, quote=False)
        return None, '', [], [], f'**Error:** {text}', None

    def _segment(self, path, text, red, green, blue, scale, low, high,
                 vmin, vmax, opacity, progress):
        if not path:
            raise UserError('Upload an image or a GeoTIFF first (or pick '
                            'an example).')
        texts = parse_texts(text)
        info = inspect_raster(path)
        scaling = {}
        if needs_scaling(info):
            scaling['bands'] = (int(red), int(green), int(blue))
            if scale == 'min / max':
                scaling.update(scale='minmax', min_value=float(vmin),
                               max_value=float(vmax))
            elif scale == 'percentile':
                scaling.update(scale='percentile',
                               percentiles=(float(low), float(high)))
        self.prune()
        out_dir = tempfile.mkdtemp(prefix='run_', dir=self.work_dir)
        scene = self._own_name(path, out_dir)

        def report(done, total):
            progress(done / total, desc=f'window {done} / {total}')

        try:
            result = self.inferencer(
                scene, texts, out_dir, scaling=scaling, resume=False,
                show_progress=False, progress=report, overview=False,
                gpkg=False, allow_vrt=False, max_pixels=self.max_pixels)
        except RasterSizeError as e:
            raise UserError(
                f'{osp.basename(path)} with {len(texts)} expression(s) '
                f'would compute {e.pixels:,} pixels (windows x window pixels '
                f"x expressions), above this server's limit of {e.limit:,} "
                '(--max-pixels); use fewer expressions or a smaller image, '
                'or tools/infer_scene.py.') from None
        except (RasterError, OSError) as e:
            raise UserError(without_paths(
                str(e).replace(scene, osp.basename(path)), path)) from None
        state = self._state(scene, result, scaling)
        state['out_dir'] = out_dir
        overlay, legend, gallery = self.render(state, opacity)
        overlay, gallery = self._picture_files(out_dir, overlay, gallery)
        files = list(result.masks) + state['pngs'] + [result.geojson]
        status = (f"Done: {len(texts)} expression(s), "
                  f"{result.summary['windows_run']} window(s) of "
                  f"{result.summary['windows']['crop_size'][0]} px.")
        if self.random_weights:
            status += ' **Random weights: the masks mean nothing.**'
        return overlay, legend, gallery, files, status, state

    @staticmethod
    def _own_name(path: str, out_dir: str) -> str:
        """The upload under a name of this request (a link in its
        folder), so every output file is named after the request."""
        scene = osp.join(out_dir,
                         f'{osp.basename(out_dir)[4:]}_{osp.basename(path)}')
        try:
            os.symlink(osp.abspath(path), scene)
        except OSError:
            shutil.copyfile(path, scene)
        return scene

    @staticmethod
    def _picture_files(out_dir: str, overlay: np.ndarray, gallery: list):
        """Write the overlay and mask pictures as files named after the
        request (see the class doc); returns their paths."""
        os.makedirs(out_dir, exist_ok=True)
        tag = f'{osp.basename(out_dir)[4:]}_{uuid.uuid4().hex[:8]}'
        path = osp.join(out_dir, f'{tag}_overlay.png')
        Image.fromarray(overlay).save(path)
        pictures = []
        for k, (picture, text) in enumerate(gallery):
            name = osp.join(out_dir, f'{tag}_mask_{k:02d}.png')
            Image.fromarray(picture).save(name)
            pictures.append((name, text))
        return path, pictures

    def _state(self, path: str, result, scaling: dict) -> dict:
        """What re-drawing needs (thumbnail, masks): kept per session."""
        with SceneSource(path, BandScaling.from_value(scaling)) as source:
            thumb, valid = source.thumbnail(1024)
        masks = [read_decimated_mask(m, valid.shape) for m in result.masks]
        pngs = []
        for mask_path in result.masks:
            import rasterio
            with rasterio.open(mask_path) as src:
                mask = src.read(1) == 1
            png = mask_path.replace('_mask.tif', '_mask.png')
            Image.fromarray(mask.astype(np.uint8) * 255).save(png)
            pngs.append(png)
        summary = result.summary
        return dict(
            thumb=thumb, valid=valid, masks=masks, texts=result.texts,
            pixels=[e['target_pixels'] for e in summary['expressions']],
            areas=[e['area'] for e in summary['expressions']],
            unit=summary['area_unit'], pngs=pngs)

    @staticmethod
    def render(state: Optional[dict], opacity: float):
        """Overlay, legend and per-expression mask pictures of a result."""
        if not state:
            return None, '', []
        thumb, valid, masks = state['thumb'], state['valid'], state['masks']
        factor = max(1, int(np.ceil(DISPLAY_SIDE / max(valid.shape))))
        if factor > 1:  # small tiles: enlarge (nearest) for the page
            thumb = thumb.repeat(factor, 0).repeat(factor, 1)
            valid = valid.repeat(factor, 0).repeat(factor, 1)
            masks = [m.repeat(factor, 0).repeat(factor, 1) for m in masks]
        overlay = draw_overview(thumb, valid, masks, state['texts'],
                                opacity=float(opacity), legend=False)
        legend = legend_html(state['texts'], state['pixels'],
                             state['areas'], state['unit'])
        gallery = []
        for k, (text, mask) in enumerate(zip(state['texts'],
                                             state['masks'])):
            picture = np.full(mask.shape + (3, ), 255, np.uint8)
            picture[mask] = colour_of(k)
            picture[~state['valid']] = 200
            gallery.append((picture, text))
        return overlay, legend, gallery

    def restyle(self, state, opacity):
        """Re-draw with another opacity (no model run)."""
        overlay, _, _ = self.render(state, opacity)
        return overlay

    def restyle_file(self, state, opacity):
        """:meth:`restyle` as a file named after the request (the page's
        slider)."""
        overlay = self.restyle(state, opacity)
        if overlay is None:
            return None
        return self._picture_files(state['out_dir'], overlay, [])[0]


def build_app(app: SegmentApp, examples: Optional[list] = None) -> gr.Blocks:
    """The page.

    Args:
        app (SegmentApp): Its logic.
        examples (list, optional): ``[file, expressions]`` rows. Defaults
            to None.

    Returns:
        gr.Blocks: Call ``.launch()`` on it.
    """
    keep = max(60, int(app.keep_hours * 3600))
    with gr.Blocks(title='mmrrsis: referring segmentation of aerial scenes',
                   analytics_enabled=False,
                   delete_cache=(keep, keep)) as page:
        gr.Markdown('## mmrrsis: referring segmentation of aerial images '
                    'and scenes\nUpload an image or a GeoTIFF, type one '
                    'expression a line, press **Segment**.')
        if app.random_weights:
            gr.Markdown('**Random weights**: no checkpoint was given, so '
                        'the masks are meaningless (start the app with the '
                        "README's checkpoint).", elem_id='random-weights')
        state = gr.State()
        with gr.Row():
            with gr.Column(scale=1):
                file = gr.File(label='Image or GeoTIFF', type='filepath',
                               file_types=FILE_TYPES, elem_id='image-file')
                info = gr.Markdown(elem_id='file-info')
                text = gr.Textbox(label='Expressions (one a line)', lines=4,
                                  elem_id='expressions',
                                  placeholder='building along the road\n'
                                  'long truck')
                with gr.Accordion('Bands and scaling', open=True,
                                  visible=False) as bands_box:
                    with gr.Row():
                        red = gr.Number(1, label='R band', precision=0)
                        green = gr.Number(2, label='G band', precision=0)
                        blue = gr.Number(3, label='B band', precision=0)
                    scale = gr.Radio(['none', 'percentile', 'min / max'],
                                     value='none', label='Scaling to 8 bits',
                                     elem_id='scaling')
                    with gr.Row():
                        low = gr.Number(2, label='low percentile')
                        high = gr.Number(98, label='high percentile')
                    with gr.Row():
                        vmin = gr.Number(0, label='min value')
                        vmax = gr.Number(4095, label='max value')
                run = gr.Button('Segment', variant='primary',
                                elem_id='run')
                status = gr.Markdown(elem_id='status')
            with gr.Column(scale=2):
                overlay = gr.Image(label='Masks', type='numpy',
                                   interactive=False, elem_id='overlay',
                                   height=520)
                opacity = gr.Slider(0, 1, value=0.55, step=0.05,
                                    label='Mask opacity', elem_id='opacity')
                legend = gr.HTML(elem_id='legend-box')
                gallery = gr.Gallery(label='Mask per expression', columns=4,
                                     height=220, object_fit='contain',
                                     elem_id='mask-gallery')
                files = gr.File(label='Downloads (mask GeoTIFF / PNG, '
                                'GeoJSON)', file_count='multiple',
                                interactive=False, elem_id='downloads')
        file.change(app.on_file, file,
                    [bands_box, red, green, blue, scale, info],
                    api_visibility='private')
        run.click(app.segment,
                  [file, text, red, green, blue, scale, low, high, vmin,
                   vmax, opacity],
                  [overlay, legend, gallery, files, status, state],
                  api_name='segment')
        opacity.change(app.restyle_file, [state, opacity], overlay,
                       api_visibility='private')
        if examples:
            gr.Examples(examples, [file, text], label='Generated examples')
    return page


def make_examples(folder: str) -> list:
    """A tile (PNG), an 8-bit GeoTIFF scene and its uint16 4-band twin."""
    from mmrrsis.datasets.synthetic import generate_scene
    from mmrrsis.datasets.synthetic.geo_scene import make_synthetic_geo_scene
    os.makedirs(folder, exist_ok=True)
    tile = osp.join(folder, 'tile.png')
    if not osp.isfile(tile):
        image = generate_scene(128, np.random.default_rng([7, 0])).image
        Image.fromarray(image).save(tile)
    scene = osp.join(folder, 'scene_rgb8.tif')
    if not osp.isfile(scene):
        make_synthetic_geo_scene(folder, tiles=(4, 4), tile_size=128,
                                 seed=7, texts=('car', ))
    return [[tile, 'car\nbuilding along the road'],
            [scene, 'vehicle\nbuilding along the road\ntree'],
            [osp.join(folder, 'scene_bgrn16.tif'), 'long truck\nroad']]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Referring segmentation '
                                     'in the browser (Gradio)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help="checkpoint ('none': random "
                        'weights, said in the page)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to serve on. Default: 127.0.0.1')
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS,
                        help='the size rule: most pixels a request may '
                        'compute (windows x window pixels x expressions). '
                        f'Default: {MAX_PIXELS:,}')
    parser.add_argument('--concurrency', type=int,
                        help='requests run at a time. Default: 1 on a GPU, '
                        '2 on CPUs')
    parser.add_argument('--queue-size', type=int, default=QUEUE_SIZE,
                        help='requests waiting at most (more are refused). '
                        f'Default: {QUEUE_SIZE}')
    parser.add_argument('--max-file-size', default=MAX_FILE_SIZE,
                        help=f'largest upload. Default: {MAX_FILE_SIZE}')
    parser.add_argument('--keep-hours', type=float, default=KEEP_HOURS,
                        help='request folders and cached files are deleted '
                        f'after this. Default: {KEEP_HOURS:g}')
    parser.add_argument('--work-dir', default=osp.join(
        tempfile.gettempdir(), 'mmrrsis_web_app'))
    parser.add_argument('--device')
    parser.add_argument('--precision', default='fp32', choices=PRECISIONS,
                        help='bf16: CPUs with AVX512-BF16/AMX and GPUs; '
                        'fp16: GPUs. Default: fp32')
    parser.add_argument('--no-examples', action='store_true')
    add_unsafe_load_arg(parser)
    return parser.parse_args(argv)


def create(argv=None):
    """Parse the arguments and build (page, app, args) without serving.

    Raises:
        SystemExit: ``error: ...`` when the model cannot be loaded (a
            missing file, a checkpoint that names code to run without
            ``--unsafe-load``, a damaged or mismatched one).
    """
    import warnings
    args = parse_args(argv)
    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    try:
        with warnings.catch_warnings():
            if checkpoint is None:  # said in the page instead
                warnings.simplefilter('ignore', UserWarning)
            inferencer = SceneInferencer(args.config, checkpoint,
                                         device=args.device,
                                         unsafe_load=args.unsafe_load,
                                         precision=args.precision)
    except (OSError, ValueError, TypeError, CheckpointMismatchError,
            UnsafeCheckpointError, CorruptCheckpointError) as e:
        raise SystemExit(f'error: cannot start the app: {e}') from None
    app = SegmentApp(inferencer, args.work_dir, args.max_pixels,
                     random_weights=checkpoint is None,
                     keep_hours=args.keep_hours)
    examples = None if args.no_examples else make_examples(
        osp.join(args.work_dir, 'examples'))
    return build_app(app, examples), app, args


def serve(page: gr.Blocks, host: str, port: int, work_dir: str,
          block: bool = True, concurrency: Optional[int] = None,
          queue_size: int = QUEUE_SIZE,
          max_file_size: str = MAX_FILE_SIZE) -> gr.Blocks:
    """Serve the page locally (no share link; system fonts, so the page
    fetches nothing from the internet).

    Args:
        page (gr.Blocks): From :func:`build_app`.
        host (str): Address to serve on.
        port (int): Port.
        work_dir (str): The app's folder (files are served from it).
        block (bool): Serve until interrupted. Defaults to True.
        concurrency (int, optional): Requests run at a time (Gradio's
            queue). Defaults to None (:func:`default_concurrency`).
        queue_size (int): Requests waiting at most; more are told the
            queue is full. Defaults to :data:`QUEUE_SIZE`.
        max_file_size (str): Largest upload. Defaults to
            :data:`MAX_FILE_SIZE`.

    Returns:
        gr.Blocks: The page, served.
    """
    theme = gr.themes.Default(
        font=['ui-sans-serif', 'system-ui', 'sans-serif'],
        font_mono=['ui-monospace', 'monospace'])
    page.queue(default_concurrency_limit=concurrency or
               default_concurrency(), max_size=queue_size)
    page.launch(server_name=host, server_port=port, share=False, theme=theme,
                allowed_paths=[work_dir], prevent_thread_lock=not block,
                quiet=not block, max_file_size=max_file_size)
    return page


def main(argv=None, block: bool = True) -> gr.Blocks:
    page, _, args = create(argv)
    return serve(page, args.host, args.port, args.work_dir, block,
                 args.concurrency or default_concurrency(args.device),
                 args.queue_size, args.max_file_size)


if __name__ == '__main__':
    main()
