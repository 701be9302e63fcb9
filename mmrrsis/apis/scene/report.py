"""The report stage of a scene: target areas, the polygon layer, the
overview picture and the summary JSON, read back from the written
masks."""
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

from PIL import Image

from mmrrsis.utils import write_json_atomically

from .overview import draw_overview, read_decimated_mask
from .source import SceneSource, import_rasterio, quiet_georeferencing
from .vectorize import vectorize_masks
from .write import colour_of


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


def area_unit(crs) -> str:
    """``m^2`` for a metric CRS, ``<unit>^2`` otherwise, ``px`` without."""
    if crs is None:
        return 'px'
    unit = (crs.linear_units or '').lower()
    if unit in ('metre', 'meter', 'm', 'metres', 'meters'):
        return 'm^2'
    return f'{unit or "unit"}^2'


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


def summarize(scene: str, source: SceneSource, texts: List[str],
              masks: List[str], scores: List[str], run: dict) -> dict:
    """What a scene run produced, as plain data.

    Args:
        scene (str): The scene file.
        source (SceneSource): The open scene.
        texts (list[str]): The expressions.
        masks (list[str]): Their mask rasters.
        scores (list[str]): Their score rasters.
        run (dict): The run's settings: ``model`` (config, weights,
            random_weights, precision), ``windows`` (crop_size, stride,
            blend, blend_floor) and ``scaling`` (the scaling's dict).

    Returns:
        dict: ``scene``, ``size``, ``crs``, ``transform``,
        ``georeferenced``, ``area_unit``, ``model``, ``model_grid``,
        ``windows``, ``scaling`` (with the fitted ``range``) and
        ``expressions`` (per expression: ``text``, files,
        ``target_pixels``, ``area``, ``colour``).
    """
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
        model=run['model'],
        model_grid=dict(
            size=[source.height, source.width],
            gsd=list(source.gsd) if source.georeferenced else None,
            resampled=source.resampled),
        windows=run['windows'],
        scaling=dict(run['scaling'],
                     range=source.range.to_dict() if source.range else None),
        expressions=items)


def write_vectors(summary: dict, out_dir: str, stem: str, gpkg: bool,
                  min_area: float, simplify: float) -> dict:
    """The polygon layer of the masks (GeoJSON, and GeoPackage if asked);
    counts added to ``summary``.

    Returns:
        dict: ``geojson`` and ``gpkg`` (path or None).
    """
    items = summary['expressions']
    vec = vectorize_masks(
        [e['mask'] for e in items], [e['score'] for e in items],
        [e['text'] for e in items], osp.join(out_dir, f'{stem}.geojson'),
        osp.join(out_dir, f'{stem}.gpkg') if gpkg else None,
        min_area=min_area, simplify=simplify)
    for item, count in zip(items, vec['polygons']):
        item['polygons'] = count
    summary['vectors'] = dict(geojson=vec['geojson'], gpkg=vec['gpkg'],
                              min_area=min_area, simplify=simplify)
    return dict(geojson=vec['geojson'], gpkg=vec['gpkg'])


def write_overview(source: SceneSource, summary: dict, path: str,
                   max_side: int = 1024) -> str:
    """Write the overview PNG of a result (thumbnail, masks, legend).

    Args:
        source (SceneSource): The open scene.
        summary (dict): From :func:`summarize`.
        path (str): The PNG file.
        max_side (int): Longest side of the thumbnail. Defaults to 1024.

    Returns:
        str: ``path``.
    """
    thumb, valid = source.thumbnail(max_side)
    items = summary['expressions']
    masks = [read_decimated_mask(e['mask'], valid.shape) for e in items]
    title = (f'prediction, {osp.basename(summary["scene"])}: '
             f'{summary["size"][1]} x {summary["size"][0]} px')
    if summary.get('crs'):
        title += f', {summary["crs"]}'
    if summary['model'].get('random_weights'):
        title += ' (random weights)'
    picture = draw_overview(thumb, valid, masks, [e['text'] for e in items],
                            [e['area'] for e in items],
                            summary['area_unit'], title)
    Image.fromarray(picture).save(path)
    return path


def report(job, source: SceneSource, run: dict, vectors: bool, gpkg: bool,
           min_area: float, simplify: float,
           overview: bool) -> SceneResult:
    """The report stage: areas, polygons and overview of the written masks.

    Args:
        job (SceneJob): The call (scene, texts, files, out_dir).
        source (SceneSource): The open scene.
        run (dict): The run's settings (see :func:`summarize`).
        vectors (bool): Write the polygon layer.
        gpkg (bool): Also as a GeoPackage.
        min_area (float): Smallest polygon (CRS units squared).
        simplify (float): Simplification tolerance (CRS units).
        overview (bool): Write the overview PNG.

    Returns:
        SceneResult: Files and summary (not yet written as JSON).
    """
    summary = summarize(job.scene, source, job.texts, job.masks, job.scores,
                        run)
    result = SceneResult(job.texts, job.masks, job.scores, summary=summary)
    if vectors:
        files = write_vectors(summary, job.out_dir, job.stem, gpkg, min_area,
                              simplify)
        result.geojson, result.gpkg = files['geojson'], files['gpkg']
    if overview:
        result.overview = write_overview(
            source, summary, osp.join(job.out_dir, f'{job.stem}_overview.png'))
    return result


def write_summary(summary: dict, path: str) -> str:
    """The summary JSON (atomically)."""
    return write_json_atomically(path, summary)


__all__ = [
    'SceneResult', 'area_unit', 'count_targets', 'report', 'summarize',
    'write_overview', 'write_summary', 'write_vectors'
]
