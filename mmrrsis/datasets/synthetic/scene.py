"""Draw aerial-looking scenes with a per-pixel instance map.

A scene is painted back to front with numpy and OpenCV: vegetated ground,
roads with sidewalks, bikeways and road markings, a parking area, buildings
with shadows, trees, and vehicles of several kinds on the roads and in the
parking area. Every pixel belongs to exactly one object of the instance map,
so the visible mask of any set of objects is exact and aligned with the
image. Sizes follow a 512 px SkyScapes-like tile (about 13 cm a pixel) and
scale with the image size.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

#: Vehicle kinds; 'vehicle' is their super-category.
VEHICLE_KINDS = ('car', 'van', 'truck', 'bus', 'trailer')
#: Car colours an expression can name, RGB.
CAR_COLOURS = {
    'white': (232, 232, 228),
    'black': (28, 28, 32),
    'red': (178, 32, 30),
    'blue': (38, 70, 168),
    'gray': (125, 126, 132),
}
#: Length of a truck (px at 512) from which it is a "long truck".
LONG_TRUCK_LENGTH = 70
#: Building area (fraction of the image) from which it is "large".
LARGE_BUILDING_AREA = 0.03

# (length range, width range) at 512 px, and the kind's drawing probability
_VEHICLE_SIZES = {
    'car': ((30, 36), (14, 16)),
    'van': ((38, 45), (17, 19)),
    'truck': ((46, 56), (19, 21)),  # long trucks: see _vehicle_size
    'bus': ((84, 96), (21, 23)),
    'trailer': ((56, 68), (19, 21)),
}
_ROAD_KIND_P = {'car': .44, 'van': .14, 'truck': .2, 'bus': .1, 'trailer': .12}
_ROOF_COLOURS = ((150, 72, 52), (112, 112, 118), (84, 78, 72),
                 (188, 182, 172), (130, 96, 70))


@dataclass
class SceneObject:
    """One object of a scene.

    Attributes:
        id (int): Its value in :attr:`Scene.instance_map` (>= 1).
        category (str): Its class, e.g. ``'car'``, ``'road marking'``.
        attrs (dict): Attributes and relations: ``colour`` (cars),
            ``long`` (trucks), ``large`` (buildings), ``on_road`` /
            ``in_parking`` (vehicles), ``along_road`` (buildings, trees),
            ``near_building`` (trees).
    """
    id: int
    category: str
    attrs: Dict[str, object] = field(default_factory=dict)


@dataclass
class Scene:
    """A drawn scene.

    Attributes:
        image (np.ndarray): (S, S, 3) uint8 RGB image.
        instance_map (np.ndarray): (S, S) int32, the id of the object each
            pixel shows.
        objects (list[SceneObject]): Objects by id (``objects[i].id == i``;
            index 0 is unused).
        areas (np.ndarray): (N,) int64 visible pixels per object id.
    """
    image: np.ndarray
    instance_map: np.ndarray
    objects: List[SceneObject]
    areas: np.ndarray = None

    def mask_of(self, ids: Sequence[int]) -> np.ndarray:
        """Visible mask of a set of objects.

        Args:
            ids (Sequence[int]): Object ids.

        Returns:
            np.ndarray: (S, S) uint8 mask in {0, 1}.
        """
        lut = np.zeros(len(self.objects), np.uint8)
        lut[list(ids)] = 1
        return lut[self.instance_map]

    def ids_of(self, category: str) -> List[int]:
        """Visible objects of a category (``'vehicle'``: all vehicles)."""
        kinds = VEHICLE_KINDS if category == 'vehicle' else (category, )
        return [
            o.id for o in self.objects[1:]
            if o.category in kinds and self.areas[o.id] > 0
        ]


class _Canvas:
    """Image, instance map and placement bookkeeping of a scene."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.f = size / 512.
        self.rng = rng
        self.image = np.zeros((size, size, 3), np.uint8)
        self.inst = np.zeros((size, size), np.int32)
        # placement: roads (with sidewalks), parking, buildings
        self.blocked = np.zeros((size, size), bool)
        self.vehicle_occ = np.zeros((size, size), bool)
        self.objects: List[SceneObject] = [SceneObject(0, 'none')]

    def px(self, length_at_512: float, minimum: int = 1) -> int:
        """A length at 512 px scaled to this canvas."""
        return max(minimum, int(round(length_at_512 * self.f)))

    def new_object(self, category: str, **attrs) -> SceneObject:
        obj = SceneObject(len(self.objects), category, dict(attrs))
        self.objects.append(obj)
        return obj

    def fill_rect(self, obj: SceneObject, x0, y0, x1, y1, colour) -> None:
        """Paint the pixel rectangle [x0, x1) x [y0, y1)."""
        s = self.size
        x0, x1 = max(0, int(x0)), min(s, int(x1))
        y0, y1 = max(0, int(y0)), min(s, int(y1))
        if x1 <= x0 or y1 <= y0:
            return
        self.image[y0:y1, x0:x1] = colour
        if obj is not None:
            self.inst[y0:y1, x0:x1] = obj.id

    def fill_poly(self, obj: Optional[SceneObject], pts: np.ndarray,
                  colour) -> None:
        pts = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
        cv2.fillPoly(self.image, [pts], tuple(int(c) for c in colour))
        if obj is not None:
            cv2.fillPoly(self.inst, [pts], int(obj.id))

    def shade(self, pts: np.ndarray, factor: float) -> None:
        """Darken the image inside a polygon (shadows), not the map."""
        pts = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
        x, y, w, h = cv2.boundingRect(pts)
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.size, x + w), min(self.size, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(patch, [pts - np.array([x0, y0])], 1)
        region = self.image[y0:y1, x0:x1]
        region[patch > 0] = (region[patch > 0] * factor).astype(np.uint8)

    def free(self, x0, y0, x1, y1, occ: Optional[np.ndarray] = None) -> bool:
        """Whether a rectangle lies inside the canvas and is unoccupied."""
        occ = self.blocked if occ is None else occ
        if x0 < 0 or y0 < 0 or x1 > self.size or y1 > self.size:
            return False
        x0, y0 = int(np.floor(x0)), int(np.floor(y0))
        x1, y1 = int(np.ceil(x1)), int(np.ceil(y1))
        if x1 <= x0 or y1 <= y0:
            return False
        return not occ[y0:y1, x0:x1].any()

    def block(self, x0, y0, x1, y1, margin: int = 0,
              occ: Optional[np.ndarray] = None) -> None:
        occ = self.blocked if occ is None else occ
        s = self.size
        occ[max(0, int(y0) - margin):min(s, int(np.ceil(y1)) + margin),
            max(0, int(x0) - margin):min(s, int(np.ceil(x1)) + margin)] = True


def _rot_rect(cx: float, cy: float, length: float, width: float,
              angle: float) -> np.ndarray:
    """(4, 2) corners of a rectangle, its length along ``angle`` (deg)."""
    return cv2.boxPoints(((cx, cy), (length, width), angle))


def _jitter(rng, colour, amount: int = 12) -> Tuple[int, int, int]:
    delta = rng.integers(-amount, amount + 1, 3)
    return tuple(int(v) for v in np.clip(np.array(colour) + delta, 0, 255))


def _low_freq_noise(rng, size: int, cells: int, amp: float) -> np.ndarray:
    grid = rng.normal(0., amp, (cells, cells)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


# ---------------------------------------------------------------- layout --


@dataclass
class _Road:
    vertical: bool
    centre: int
    width: int
    half_total: int  # half of road + bikeways + sidewalks
    bike: int = 0  # bikeway width on each side (0: none)
    walk: int = 0  # sidewalk width on each side
    obj: SceneObject = None

    def band(self, half: float) -> Tuple[float, float]:
        return self.centre - half, self.centre + half

    def distance(self, x0, y0, x1, y1) -> float:
        """Gap between a rectangle and the road's outer band (0: touch)."""
        lo, hi = self.band(self.half_total)
        a, b = (x0, x1) if self.vertical else (y0, y1)
        return max(0., lo - b, a - hi)


def _draw_ground(cv: _Canvas) -> None:
    rng, s = cv.rng, cv.size
    veg = cv.new_object('low vegetation')
    base = np.array(_jitter(rng, (88, 124, 62), 14), np.float32)
    tex = _low_freq_noise(rng, s, 6, 16.)[..., None]
    tex = tex + _low_freq_noise(rng, s, max(4, s // 24), 7.)[..., None]
    cv.image[:] = np.clip(base + tex * np.array([0.8, 1., 0.6]), 0,
                          255).astype(np.uint8)
    cv.inst[:] = veg.id


def _draw_roads(cv: _Canvas) -> List[_Road]:
    rng, s = cv.rng, cv.size
    layout = rng.choice(['h', 'v', 'cross'], p=[.35, .35, .3])
    roads = []
    for vertical in ([False] if layout == 'h' else
                     [True] if layout == 'v' else [False, True]):
        width = cv.px(rng.uniform(54, 68), minimum=5)
        bike = cv.px(10) if rng.random() < .45 else 0
        walk = cv.px(rng.uniform(12, 18))
        half = width / 2
        half_total = int(np.ceil(half)) + bike + walk
        centre = int(rng.uniform(.28, .72) * s)
        roads.append(_Road(vertical, centre, width, half_total, bike, walk))

    def paint_band(road, obj, lo, hi, colour):
        if road.vertical:
            cv.fill_rect(obj, lo, 0, hi, s, colour)
        else:
            cv.fill_rect(obj, 0, lo, s, hi, colour)

    # sidewalks and bikeways first, then every carriageway over them, so
    # that crossings stay road
    for road in roads:
        c, half = road.centre, road.width / 2
        walk_colour = _jitter(rng, (184, 178, 166), 8)
        bike_colour = _jitter(rng, (168, 82, 72), 8)
        for sign in (-1, 1):
            inner = c + sign * half
            sidewalk = cv.new_object('sidewalk')
            if road.bike:
                bikeway = cv.new_object('bikeway')
                a, b = sorted((inner, inner + sign * road.bike))
                paint_band(road, bikeway, a, b, bike_colour)
                inner = inner + sign * road.bike
            a, b = sorted((inner, inner + sign * road.walk))
            paint_band(road, sidewalk, a, b, walk_colour)
    for road in roads:
        road.obj = cv.new_object('road')
        lo, hi = road.band(road.width / 2)
        paint_band(road, road.obj, lo, hi, _jitter(rng, (78, 78, 82), 8))
        lo, hi = road.band(road.half_total)
        if road.vertical:
            cv.block(lo, 0, hi, s, margin=cv.px(4))
        else:
            cv.block(0, lo, s, hi, margin=cv.px(4))

    # road markings: dashed centre line, sometimes solid edge lines; none
    # inside a crossing road
    for road in roads:
        marking = cv.new_object('road marking')
        thick = cv.px(3)
        dash, gap = cv.px(22, 2), cv.px(18, 2)
        half = road.width / 2
        others = [r.band(r.width / 2) for r in roads if r is not road]

        def clear(a, b, others=others):
            return all(b <= lo or a >= hi for lo, hi in others)

        colour = (236, 236, 230)
        lines = [(road.centre - thick / 2, True)]
        if rng.random() < .5 and road.width >= 4 * thick + 4:
            lines += [(road.centre - half + thick, False),
                      (road.centre + half - 2 * thick, False)]
        offset = int(rng.integers(0, dash + gap))
        for pos, dashed in lines:
            step = dash + gap if dashed else cv.px(6, 2)
            length = dash if dashed else step
            start = -offset if dashed else 0
            for a in range(start, s, step):
                b = a + length
                if not clear(a, b):
                    continue
                if road.vertical:
                    cv.fill_rect(marking, pos, a, pos + thick, b, colour)
                else:
                    cv.fill_rect(marking, a, pos, b, pos + thick, colour)
    return roads


def _draw_parking(cv: _Canvas) -> Optional[dict]:
    rng, s = cv.rng, cv.size
    slot_w, slot_d = cv.px(22, 3), cv.px(44, 5)
    for _ in range(40):
        rows = int(rng.integers(1, 3))
        cols = int(rng.integers(4, 9))
        w = cols * slot_w + 2 * cv.px(4)
        h = rows * slot_d + 2 * cv.px(4)
        if w >= s * .8 or h >= s * .8:
            continue
        x0 = int(rng.integers(0, s - w + 1))
        y0 = int(rng.integers(0, s - h + 1))
        if cv.free(x0, y0, x0 + w, y0 + h):
            break
    else:
        return None
    lot = cv.new_object('impervious surface', parking=True)
    cv.fill_rect(lot, x0, y0, x0 + w, y0 + h, _jitter(rng, (138, 136, 132), 8))
    line = _jitter(rng, (205, 205, 200), 6)
    pad = cv.px(4)
    slots = []
    for r in range(rows):
        ry = y0 + pad + r * slot_d
        for k in range(cols + 1):
            lx = x0 + pad + k * slot_w
            cv.fill_rect(lot, lx, ry, lx + max(1, cv.px(1.5)),
                         ry + slot_d - cv.px(4), line)
        slots += [(x0 + pad + k * slot_w + slot_w / 2, ry + slot_d / 2)
                  for k in range(cols)]
    cv.block(x0, y0, x0 + w, y0 + h, margin=cv.px(6))
    return dict(box=(x0, y0, x0 + w, y0 + h), slots=slots, slot_w=slot_w,
                slot_d=slot_d)


def _draw_buildings(cv: _Canvas, roads: List[_Road]) -> List[tuple]:
    rng, s = cv.rng, cv.size
    boxes = []
    for _ in range(int(rng.integers(2, 7))):
        for _ in range(25):
            bw = cv.px(rng.uniform(52, 130), 3)
            bd = cv.px(rng.uniform(48, 104), 3)
            if roads and rng.random() < .6:
                road = roads[int(rng.integers(len(roads)))]
                gap = cv.px(rng.uniform(4, 14))
                along = rng.uniform(0, s - bw)
                lo, hi = road.band(road.half_total)
                across = (lo - gap - bd) if rng.random() < .5 else (hi + gap)
                x0, y0, w, h = ((across, along, bd, bw) if road.vertical else
                                (along, across, bw, bd))
            else:
                w, h = bw, bd
                x0, y0 = rng.uniform(0, s - w), rng.uniform(0, s - h)
            x0, y0 = int(x0), int(y0)
            if cv.free(x0, y0, x0 + w, y0 + h):
                break
        else:
            continue
        x1, y1 = x0 + w, y0 + h
        dist = min((r.distance(x0, y0, x1, y1) for r in roads),
                   default=np.inf)
        obj = cv.new_object(
            'building',
            along_road=bool(dist <= cv.px(26)),
            large=bool(w * h >= LARGE_BUILDING_AREA * s * s))
        # shadow towards the bottom right, then roof, ridge and a skylight
        off = cv.px(7)
        cv.shade(
            np.array([[x0 + off, y0 + off], [x1 + off, y0 + off],
                      [x1 + off, y1 + off], [x0 + off, y1 + off]]), .6)
        roof = _jitter(rng, _ROOF_COLOURS[rng.integers(len(_ROOF_COLOURS))])
        cv.fill_rect(obj, x0, y0, x1, y1, roof)
        ridge = tuple(int(c * .75) for c in roof)
        t = cv.px(2)
        if w >= h:
            cv.fill_rect(obj, x0, (y0 + y1) // 2 - t // 2, x1,
                         (y0 + y1) // 2 - t // 2 + t, ridge)
        else:
            cv.fill_rect(obj, (x0 + x1) // 2 - t // 2, y0,
                         (x0 + x1) // 2 - t // 2 + t, y1, ridge)
        cv.block(x0, y0, x1, y1, margin=cv.px(6))
        boxes.append((x0, y0, x1, y1))
    return boxes


def _rect_point_distance(box, x, y) -> float:
    x0, y0, x1, y1 = box
    dx = max(x0 - x, 0., x - x1)
    dy = max(y0 - y, 0., y - y1)
    return float(np.hypot(dx, dy))


def _draw_trees(cv: _Canvas, roads: List[_Road], buildings: List[tuple],
                parking: Optional[dict]) -> None:
    rng, s = cv.rng, cv.size
    roads_mask = np.zeros_like(cv.blocked)
    for road in roads:
        lo, hi = road.band(road.half_total)
        if road.vertical:
            cv.block(lo, 0, hi, s, occ=roads_mask)
        else:
            cv.block(0, lo, s, hi, occ=roads_mask)
    if parking is not None:
        cv.block(*parking['box'], occ=roads_mask)
    for _ in range(int(rng.integers(3, 12))):
        for _ in range(25):
            r = cv.px(rng.uniform(9, 21))
            mode = rng.random()
            if mode < .4 and buildings:
                x0, y0, x1, y1 = buildings[int(rng.integers(len(buildings)))]
                side = rng.integers(4)
                d = r + cv.px(rng.uniform(0, 12))
                t = rng.random()
                x, y = [(x0 + t * (x1 - x0), y0 - d),
                        (x0 + t * (x1 - x0), y1 + d),
                        (x0 - d, y0 + t * (y1 - y0)),
                        (x1 + d, y0 + t * (y1 - y0))][side]
            elif mode < .7 and roads:
                road = roads[int(rng.integers(len(roads)))]
                lo, hi = road.band(road.half_total)
                d = r + cv.px(rng.uniform(1, 12))
                across = lo - d if rng.random() < .5 else hi + d
                along = rng.uniform(0, s)
                x, y = (across, along) if road.vertical else (along, across)
            else:
                x, y = rng.uniform(0, s), rng.uniform(0, s)
            inside = 0 <= x < s and 0 <= y < s
            if (inside and cv.free(x - r, y - r, x + r, y + r, roads_mask)
                    and not cv.blocked[int(y), int(x)]):
                break
        else:
            continue
        near = min((_rect_point_distance(b, x, y) for b in buildings),
                   default=np.inf)
        road_gap = min((r_.distance(x, y, x, y) for r_ in roads),
                       default=np.inf)
        obj = cv.new_object(
            'tree',
            near_building=bool(near <= r + cv.px(20)),
            along_road=bool(road_gap <= r + cv.px(20)))
        centre = (int(round(x)), int(round(y)))
        cv.shade(cv2.ellipse2Poly(
            (centre[0] + r // 2, centre[1] + r // 2), (r, r), 0, 0, 360, 20),
            .55)
        crown = _jitter(rng, (40, 84, 38), 10)
        poly = cv2.ellipse2Poly(centre, (r, r), 0, 0, 360, 12)
        cv.fill_poly(obj, poly, crown)
        if r >= 3:
            light = tuple(min(255, int(c * 1.35)) for c in crown)
            cv2.circle(cv.image, (centre[0] - r // 3, centre[1] - r // 3),
                       max(1, r // 3), light, -1)


def _vehicle_size(cv: _Canvas, kind: str) -> Tuple[int, int, bool]:
    rng = cv.rng
    (l0, l1), (w0, w1) = _VEHICLE_SIZES[kind]
    long = kind == 'truck' and rng.random() < .5
    if long:
        l0, l1 = 80, 96
    length = cv.px(rng.uniform(l0, l1), 3)
    width = cv.px(rng.uniform(w0, w1), 2)
    return length, width, long


def _draw_vehicle(cv: _Canvas, kind: str, cx: float, cy: float,
                  length: int, width: int, angle: float, **attrs) -> None:
    rng = cv.rng
    colour_name = None
    if kind == 'car':
        colour_name = list(CAR_COLOURS)[rng.integers(len(CAR_COLOURS))]
        body = _jitter(rng, CAR_COLOURS[colour_name], 8)
    elif kind == 'van':
        body = _jitter(rng, ((226, 226, 222), (150, 152, 158),
                             (60, 62, 70))[rng.integers(3)], 8)
    elif kind == 'bus':
        body = _jitter(rng, ((222, 196, 40), (228, 228, 224),
                             (176, 40, 36))[rng.integers(3)], 8)
    elif kind == 'trailer':
        body = _jitter(rng, ((196, 198, 200), (110, 118, 128))[
            rng.integers(2)], 8)
    else:  # truck cargo box
        body = _jitter(rng, ((210, 210, 206), (92, 110, 140),
                             (150, 60, 40))[rng.integers(3)], 8)
    obj = cv.new_object(kind, **attrs)
    if colour_name is not None:
        obj.attrs['colour'] = colour_name
    if kind == 'truck':
        obj.attrs['long'] = length >= cv.px(LONG_TRUCK_LENGTH)
    cv.fill_poly(obj, _rot_rect(cx, cy, length, width, angle), body)
    if length < 8:
        return
    # details: a dark windscreen / a differently coloured cab at the front
    rad = np.deg2rad(angle)
    ux, uy = np.cos(rad), np.sin(rad)
    front = dict(car=.18, van=.14, bus=.06, truck=.2, trailer=0.)[kind]
    if front:
        fl = length * front
        fx = cx + ux * (length / 2 - fl * 1.6)
        fy = cy + uy * (length / 2 - fl * 1.6)
        shade = ((30, 36, 44) if kind != 'truck' else _jitter(
            rng, (180, 40, 36), 40))
        size = (fl, width * .8) if kind != 'truck' else (fl * 1.2, width)
        cv.fill_poly(obj, _rot_rect(fx, fy, *size, angle), shade)
    if kind in ('bus', 'trailer'):
        stripe = tuple(int(c * .85) for c in body)
        cv.fill_poly(obj, _rot_rect(cx, cy, length * .8, max(1, width * .2),
                                    angle), stripe)


def _draw_road_vehicles(cv: _Canvas, roads: List[_Road]) -> None:
    rng, s = cv.rng, cv.size
    kinds, probs = zip(*_ROAD_KIND_P.items())
    for road in roads:
        for _ in range(int(rng.integers(2, 10))):
            kind = str(rng.choice(kinds, p=probs))
            length, width, _ = _vehicle_size(cv, kind)
            lane = 1 if rng.random() < .5 else -1
            across = road.centre + lane * road.width / 4
            for _ in range(10):
                along = rng.uniform(length / 2, s - length / 2)
                cx, cy = (across, along) if road.vertical else (along, across)
                hl, hw = (length / 2, width / 2)
                bx = ((cx - hw, cy - hl, cx + hw, cy + hl) if road.vertical
                      else (cx - hl, cy - hw, cx + hl, cy + hw))
                if cv.free(*bx, occ=cv.vehicle_occ):
                    break
            else:
                continue
            angle = (90. if road.vertical else 0.) + (
                180. if lane < 0 else 0.) + rng.uniform(-2, 2)
            _draw_vehicle(cv, kind, cx, cy, length, width, angle,
                          on_road=True, in_parking=False)
            cv.block(*bx, margin=cv.px(6), occ=cv.vehicle_occ)


def _draw_parked_vehicles(cv: _Canvas, parking: Optional[dict]) -> None:
    if parking is None:
        return
    rng = cv.rng
    fill = rng.uniform(.35, .85)
    for x, y in parking['slots']:
        if rng.random() > fill:
            continue
        kind = 'car' if rng.random() < .75 else 'van'
        length, width, _ = _vehicle_size(cv, kind)
        length = min(length, parking['slot_d'] - 1)
        width = min(width, parking['slot_w'] - 1)
        angle = 90. + (180. if rng.random() < .5 else 0.) + rng.uniform(-4, 4)
        _draw_vehicle(cv, kind, x, y, length, width, angle, on_road=False,
                      in_parking=True)


def generate_scene(size: int = 512,
                   rng: Optional[np.random.Generator] = None) -> Scene:
    """Draw one aerial-looking scene.

    Args:
        size (int): Side of the square image in pixels. Defaults to 512.
        rng (np.random.Generator, optional): Random generator; a scene is a
            pure function of its state. Defaults to None (a fresh
            generator seeded with 0).

    Returns:
        Scene: The image (S, S, 3) uint8 RGB, the (S, S) instance map and
        the objects with their attributes.
    """
    if size < 16:
        raise ValueError(f'size must be >= 16, got {size}')
    rng = np.random.default_rng(0) if rng is None else rng
    cv = _Canvas(size, rng)
    _draw_ground(cv)
    roads = _draw_roads(cv)
    parking = _draw_parking(cv) if rng.random() < .65 else None
    buildings = _draw_buildings(cv, roads)
    _draw_trees(cv, roads, buildings, parking)
    _draw_road_vehicles(cv, roads)
    _draw_parked_vehicles(cv, parking)
    # sensor look: slow illumination change and fine grain
    light = 1. + _low_freq_noise(rng, size, 3, .05)[..., None]
    grain = rng.normal(0., 3.5, cv.image.shape).astype(np.float32)
    image = np.clip(cv.image * light + grain, 0, 255).astype(np.uint8)
    areas = np.bincount(cv.inst.ravel(), minlength=len(cv.objects))
    return Scene(image, cv.inst, cv.objects, areas)
