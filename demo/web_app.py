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
unreadable file, no expression, an image above ``--max-pixels``) is
answered in the page; the server keeps serving. Nothing phones home:
Gradio's analytics are off and nothing is fetched from the internet.
"""
import argparse
import html
import os
import os.path as osp
import tempfile
import traceback
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
from mmrrsis.utils import PRECISIONS, add_unsafe_load_arg  # noqa: E402

#: Largest scene (pixels) the page accepts by default.
MAX_PIXELS = 64_000_000
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

    Raises:
        UserError: Not a raster file.
    """
    try:
        return scene_api.inspect_raster(path)
    except ValueError:
        raise UserError(f'Cannot read {osp.basename(path)}: not an image or '
                        'GeoTIFF file, or a corrupt one.') from None


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

    Args:
        inferencer (SceneInferencer): The model.
        work_dir (str): Where each request's outputs go.
        max_pixels (int): Largest scene accepted. Defaults to
            :data:`MAX_PIXELS`.
        random_weights (bool): Say in the page that the weights are
            random. Defaults to False.
    """

    def __init__(self, inferencer: SceneInferencer, work_dir: str,
                 max_pixels: int = MAX_PIXELS,
                 random_weights: bool = False) -> None:
        self.inferencer = inferencer
        self.work_dir = work_dir
        self.max_pixels = max_pixels
        self.random_weights = random_weights
        os.makedirs(work_dir, exist_ok=True)

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
            return self._failed(str(e))
        except Exception as e:  # keep serving; say what happened
            traceback.print_exc()
            return self._failed(f'{type(e).__name__}: {e}')

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
        pixels = info['height'] * info['width']
        if pixels > self.max_pixels:
            raise UserError(
                f"The image is {info['width']} x {info['height']} = "
                f'{pixels:,} pixels, above this server\'s limit of '
                f'{self.max_pixels:,} (--max-pixels); use '
                'tools/infer_scene.py for it.')
        scaling = {}
        if needs_scaling(info):
            scaling['bands'] = (int(red), int(green), int(blue))
            if scale == 'min / max':
                scaling.update(scale='minmax', min_value=float(vmin),
                               max_value=float(vmax))
            elif scale == 'percentile':
                scaling.update(scale='percentile',
                               percentiles=(float(low), float(high)))
        out_dir = tempfile.mkdtemp(prefix='run_', dir=self.work_dir)

        def report(done, total):
            progress(done / total, desc=f'window {done} / {total}')

        result = self.inferencer(path, texts, out_dir, scaling=scaling,
                                 resume=False, show_progress=False,
                                 progress=report, overview=False, gpkg=False)
        state = self._state(path, result, scaling)
        overlay, legend, gallery = self.render(state, opacity)
        files = list(result.masks) + state['pngs'] + [result.geojson]
        status = (f"Done: {len(texts)} expression(s), "
                  f"{result.summary['windows_run']} window(s) of "
                  f"{result.summary['windows']['crop_size'][0]} px.")
        if self.random_weights:
            status += ' **Random weights: the masks mean nothing.**'
        return overlay, legend, gallery, files, status, state

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


def build_app(app: SegmentApp, examples: Optional[list] = None) -> gr.Blocks:
    """The page.

    Args:
        app (SegmentApp): Its logic.
        examples (list, optional): ``[file, expressions]`` rows. Defaults
            to None.

    Returns:
        gr.Blocks: Call ``.launch()`` on it.
    """
    with gr.Blocks(title='mmrrsis: referring segmentation of aerial scenes',
                   analytics_enabled=False) as page:
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
        opacity.change(app.restyle, [state, opacity], overlay,
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
                        help=f'largest scene accepted. Default: '
                        f'{MAX_PIXELS:,}')
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
                     random_weights=checkpoint is None)
    examples = None if args.no_examples else make_examples(
        osp.join(args.work_dir, 'examples'))
    return build_app(app, examples), app, args


def serve(page: gr.Blocks, host: str, port: int, work_dir: str,
          block: bool = True) -> gr.Blocks:
    """Serve the page locally (no share link; system fonts, so the page
    fetches nothing from the internet); one request at a time."""
    theme = gr.themes.Default(
        font=['ui-sans-serif', 'system-ui', 'sans-serif'],
        font_mono=['ui-monospace', 'monospace'])
    page.queue(default_concurrency_limit=1)
    page.launch(server_name=host, server_port=port, share=False, theme=theme,
                allowed_paths=[work_dir], prevent_thread_lock=not block,
                quiet=not block)
    return page


def main(argv=None, block: bool = True) -> gr.Blocks:
    page, _, args = create(argv)
    return serve(page, args.host, args.port, args.work_dir, block)


if __name__ == '__main__':
    main()
