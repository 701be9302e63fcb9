"""Polygons of a mask raster, read back in strips (bounded memory).

Each strip of rows is labelled into 4-connected components
(``cv2.connectedComponents``) and polygonised with
``rasterio.features.shapes`` in pixel coordinates; components that meet
across a strip border are joined (union-find over the border rows) and
their pieces merged with shapely (exact in integer pixel coordinates)
once no later strip can extend them. Only the open components at the
current border and the current strip are in memory. The finished polygon
is mapped to the scene's CRS with its transform, filtered by area and
optionally simplified; its ``area`` is its pixel count times the pixel
area (exact; simplification does not change it), ``mean_score`` the mean
target probability over its pixels.
"""
import json
import os.path as osp
import warnings
from typing import Dict, Iterator, List, Optional, Sequence

import cv2
import numpy as np

from .source import import_rasterio, quiet_georeferencing
from .write import SCORE_SCALE


class _UnionFind:

    def __init__(self) -> None:
        self.parent: Dict[int, int] = {}

    def add(self, i: int) -> None:
        self.parent.setdefault(i, i)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def forget(self, ids) -> None:
        for i in ids:
            self.parent.pop(i, None)


def _strip_pieces(mask: np.ndarray, score: np.ndarray, y0: int, base: int):
    """Components of a strip: {global id: [polygon, pixels, score sum]}
    and the (H, W) global id map (-1: background)."""
    import shapely
    from affine import Affine
    from rasterio import features
    num, labels = cv2.connectedComponents(mask, connectivity=4,
                                          ltype=cv2.CV_32S)
    pieces = {}
    if num <= 1:
        return pieces, np.full(mask.shape, -1, np.int64)
    counts = np.bincount(labels.ravel(), minlength=num)
    sums = np.bincount(labels.ravel(), weights=score.ravel(), minlength=num)
    polys: Dict[int, list] = {}
    for geom, value in features.shapes(
            labels, mask=mask > 0, connectivity=4,
            transform=Affine.translation(0, y0)):
        polys.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    for label, parts in polys.items():
        geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        pieces[base + label] = [geom, int(counts[label]), float(sums[label])]
    ids = np.where(labels > 0, labels.astype(np.int64) + base, -1)
    return pieces, ids


def iter_polygons(mask_path: str,
                  score_path: Optional[str] = None,
                  strip_rows: int = 512) -> Iterator[dict]:
    """Yield the target polygons of a mask raster, strip by strip.

    Args:
        mask_path (str): uint8 mask (1 = target; 0 and nodata are not).
        score_path (str, optional): uint8 score raster of the same grid
            (probability * :data:`SCORE_SCALE`). Defaults to None (no
            ``mean_score``).
        strip_rows (int): Rows read at a time. Defaults to 512.

    Yields:
        dict: ``geometry`` (shapely Polygon in pixel coordinates: x =
        column, y = row), ``pixels`` (int) and ``mean_score`` (float or
        None).
    """
    rasterio = import_rasterio()
    from rasterio.windows import Window
    uf = _UnionFind()
    pending: Dict[int, list] = {}
    prev_bottom = None
    base = 0
    with quiet_georeferencing(), rasterio.open(mask_path) as src:
        scores = rasterio.open(score_path) if score_path else None
        try:
            height, width = src.height, src.width
            for y0 in range(0, height, strip_rows):
                rows = min(strip_rows, height - y0)
                window = Window(0, y0, width, rows)
                mask = (src.read(1, window=window) == 1).astype(np.uint8)
                score = (scores.read(1, window=window).astype(np.float64)
                         if scores is not None else np.zeros(mask.shape))
                pieces, ids = _strip_pieces(mask, score, y0, base)
                base += mask.size + 1
                for gid in pieces:
                    uf.add(gid)
                pending.update(pieces)
                if prev_bottom is not None and pieces:
                    top = ids[0]
                    joined = (prev_bottom >= 0) & (top >= 0)
                    for a, b in set(zip(prev_bottom[joined].tolist(),
                                        top[joined].tolist())):
                        uf.union(a, b)
                prev_bottom = ids[-1]
                last = y0 + rows >= height
                open_roots = set() if last else {
                    uf.find(int(g))
                    for g in np.unique(prev_bottom[prev_bottom >= 0])
                }
                groups: Dict[int, List[int]] = {}
                for gid in pending:
                    groups.setdefault(uf.find(gid), []).append(gid)
                for root, members in groups.items():
                    if root in open_roots:
                        continue
                    yield _merge([pending.pop(g) for g in members],
                                 scores is not None)
                    uf.forget(members)
        finally:
            if scores is not None:
                scores.close()


def _merge(parts: List[list], with_score: bool) -> dict:
    import shapely
    geoms = [p[0] for p in parts]
    geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    pixels = sum(p[1] for p in parts)
    total = sum(p[2] for p in parts)
    mean = total / pixels / SCORE_SCALE if with_score and pixels else None
    return dict(geometry=geom, pixels=pixels, mean_score=mean)


def to_crs_geometry(geom, transform):
    """Map a pixel-coordinate geometry with a rasterio/affine transform."""
    from shapely import affinity
    t = transform
    return affinity.affine_transform(geom, [t.a, t.b, t.d, t.e, t.c, t.f])


def crs_member(crs) -> Optional[dict]:
    """The legacy GeoJSON ``crs`` member (read by GDAL and QGIS)."""
    if crs is None:
        return None
    epsg = crs.to_epsg()
    name = f'urn:ogc:def:crs:EPSG::{epsg}' if epsg else crs.to_string()
    return dict(type='name', properties=dict(name=name))


class VectorLayer:
    """Polygons of every expression in one layer: GeoJSON always, and a
    GeoPackage when pyogrio is installed.

    Features are streamed to the GeoJSON file as they come (and appended to
    the GeoPackage in batches), so the layer is never held in memory.

    Properties of each polygon: ``expression``, ``expression_index``,
    ``area`` (CRS units squared, e.g. m^2; pixels without a CRS),
    ``pixels`` and ``mean_score``.

    Args:
        geojson_path (str): Output ``.geojson``.
        crs (rasterio.crs.CRS, optional): The scene's CRS. Defaults to None.
        gpkg_path (str, optional): Output ``.gpkg``; None or pyogrio
            missing: not written. Defaults to None.
        batch (int): Features per GeoPackage append. Defaults to 2000.
    """

    FIELDS = ('expression', 'expression_index', 'area', 'pixels',
              'mean_score')

    def __init__(self,
                 geojson_path: str,
                 crs=None,
                 gpkg_path: Optional[str] = None,
                 batch: int = 2000) -> None:
        self.geojson_path = geojson_path
        self.crs = crs
        self.gpkg_path = gpkg_path if gpkg_path and _has_pyogrio() else None
        self.batch = batch
        self._buffer: List[tuple] = []
        self._gpkg_started = False
        self.count = 0
        self._file = open(geojson_path, 'w')
        head = dict(type='FeatureCollection', name=osp.splitext(
            osp.basename(geojson_path))[0])
        member = crs_member(crs)
        if member is not None:
            head['crs'] = member
        self._file.write(json.dumps(head)[:-1] + ', "features": [\n')

    def add(self, geom, properties: dict) -> None:
        """Append one polygon (in the layer's CRS)."""
        import shapely
        props = {k: properties.get(k) for k in self.FIELDS}
        sep = ',\n' if self.count else ''
        self._file.write(sep + '{"type": "Feature", "properties": ' +
                         json.dumps(props) + ', "geometry": ' +
                         shapely.to_geojson(geom) + '}')
        self.count += 1
        if self.gpkg_path is not None:
            self._buffer.append((shapely.to_wkb(geom), props))
            if len(self._buffer) >= self.batch:
                self._flush_gpkg()

    def _flush_gpkg(self) -> None:
        from pyogrio.raw import write
        rows = self._buffer
        geometry = np.array([g for g, _ in rows], dtype=object)
        fields = [
            np.array([p['expression'] for _, p in rows], dtype=object),
            np.array([p['expression_index'] for _, p in rows], np.int64),
            np.array([p['area'] for _, p in rows], np.float64),
            np.array([p['pixels'] for _, p in rows], np.int64),
            np.array([
                np.nan if p['mean_score'] is None else p['mean_score']
                for _, p in rows
            ], np.float64),
        ]
        with warnings.catch_warnings():
            # a scene without a CRS (a plain PNG) has none to give
            warnings.filterwarnings('ignore', "'crs' was not provided")
            write(self.gpkg_path, geometry, fields, list(self.FIELDS),
                  layer='masks', driver='GPKG', geometry_type='Polygon',
                  crs=self.crs.to_wkt() if self.crs is not None else None,
                  append=self._gpkg_started)
        self._gpkg_started = True
        self._buffer = []

    def close(self) -> None:
        """Finish the files."""
        self._file.write('\n]}\n')
        self._file.close()
        if self.gpkg_path is not None and (self._buffer
                                           or not self._gpkg_started):
            self._flush_gpkg()

    def __enter__(self) -> 'VectorLayer':
        return self

    def __exit__(self, *args) -> None:
        self.close()


def _has_pyogrio() -> bool:
    try:
        import pyogrio  # noqa: F401
    except ImportError:
        return False
    return True


def vectorize_masks(mask_paths: Sequence[str],
                    score_paths: Sequence[Optional[str]],
                    texts: Sequence[str],
                    geojson_path: str,
                    gpkg_path: Optional[str] = None,
                    min_area: float = 0.,
                    simplify: float = 0.,
                    strip_rows: int = 512) -> dict:
    """Write the polygons of the expressions' masks as one vector layer.

    Args:
        mask_paths (Sequence[str]): A mask raster per expression (same
            grid).
        score_paths (Sequence[str]): Their score rasters (None entries:
            no ``mean_score``).
        texts (Sequence[str]): The expressions.
        geojson_path (str): The GeoJSON file.
        gpkg_path (str, optional): The GeoPackage file, if pyogrio is
            installed. Defaults to None.
        min_area (float): Drop polygons smaller than this (CRS units
            squared; pixels without a CRS). Defaults to 0.
        simplify (float): Douglas-Peucker tolerance (CRS units; topology
            kept). Defaults to 0 (exact pixel outlines).
        strip_rows (int): Rows read at a time. Defaults to 512.

    Returns:
        dict: ``polygons`` (count per expression), ``area`` (total per
        expression, CRS units squared), ``geojson`` and ``gpkg`` (path or
        None).
    """
    rasterio = import_rasterio()
    with quiet_georeferencing(), rasterio.open(mask_paths[0]) as src:
        crs, transform = src.crs, src.transform
    pixel_area = abs(transform.a * transform.e - transform.b * transform.d)
    counts, areas = [], []
    with VectorLayer(geojson_path, crs, gpkg_path) as layer:
        for k, (mask_path, score_path, text) in enumerate(
                zip(mask_paths, score_paths, texts)):
            num, total = 0, 0.
            for poly in iter_polygons(mask_path, score_path, strip_rows):
                area = poly['pixels'] * pixel_area
                if area < min_area:
                    continue
                geom = to_crs_geometry(poly['geometry'], transform)
                if simplify > 0:
                    geom = geom.simplify(simplify, preserve_topology=True)
                layer.add(geom, dict(
                    expression=text, expression_index=k, area=area,
                    pixels=poly['pixels'], mean_score=poly['mean_score']))
                num += 1
                total += area
            counts.append(num)
            areas.append(total)
    return dict(polygons=counts, area=areas, geojson=geojson_path,
                gpkg=layer.gpkg_path)

