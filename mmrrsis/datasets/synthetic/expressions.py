"""The expression grammar of the generated data.

Three kinds of expression, in RefSegRS' style (plain lower-case words):

- category: the class alone, ``car``, ``road marking``, ``vehicle``;
- attribute + category: ``long truck``, ``light-duty vehicle`` (cars and
  vans), ``heavy vehicle`` (trucks, buses, trailers), ``large building``,
  ``white car`` (and black, red, blue, gray);
- relation: ``vehicle driving on the road``, ``light-duty vehicle driving
  on the road``, ``car on the road``, ``car in the parking area``,
  ``van in the parking area``, ``vehicle in the parking area``,
  ``building along the road``, ``tree near the building``,
  ``tree along the road``.

The target of an expression is every visible object it describes, so a
target is often several small, scattered objects. An attribute or
relation expression often selects a strict subset of its category's
objects (``long truck`` vs ``truck``); such expressions are favoured, and
often chosen together with the bare category on the same image, so that a
model has to read the whole expression.
"""
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from ..text_utils import REFSEGRS_CATEGORIES, find_category
from .scene import CAR_COLOURS, VEHICLE_KINDS, Scene, SceneObject

_LIGHT = ('car', 'van')
_HEAVY = ('truck', 'bus', 'trailer')


@dataclass(frozen=True)
class ExpressionRule:
    """One expression of the grammar.

    Attributes:
        text (str): The expression.
        kind (str): ``'category'``, ``'attribute'`` or ``'relation'``.
        categories (tuple[str]): Object classes it can select.
        predicate (callable, optional): Further condition on an object.
    """
    text: str
    kind: str
    categories: Tuple[str, ...]
    predicate: Optional[Callable[[SceneObject], bool]] = None

    @property
    def category(self) -> str:
        """The RefSegRS class the expression names (its head noun)."""
        return find_category(self.text, REFSEGRS_CATEGORIES)

    def select(self, scene: Scene) -> List[int]:
        """Ids of the visible objects of ``scene`` the expression refers."""
        return [
            o.id for o in scene.objects[1:]
            if o.category in self.categories and scene.areas[o.id] > 0 and (
                self.predicate is None or self.predicate(o))
        ]


def _attr(name):
    return lambda o: bool(o.attrs.get(name))


def _colour(name):
    return lambda o: o.attrs.get('colour') == name


def _cats(name: str) -> Tuple[str, ...]:
    return VEHICLE_KINDS if name == 'vehicle' else (name, )


RULES: Tuple[ExpressionRule, ...] = tuple(
    [ExpressionRule(c, 'category', _cats(c)) for c in (
        'road', 'road marking', 'sidewalk', 'bikeway', 'building', 'tree',
        'low vegetation', 'impervious surface', 'vehicle', 'car', 'van',
        'truck', 'bus', 'trailer')] + [
        ExpressionRule('light-duty vehicle', 'attribute', _LIGHT),
        ExpressionRule('heavy vehicle', 'attribute', _HEAVY),
        ExpressionRule('long truck', 'attribute', ('truck', ), _attr('long')),
        ExpressionRule('large building', 'attribute', ('building', ),
                       _attr('large')),
    ] + [
        ExpressionRule(f'{c} car', 'attribute', ('car', ), _colour(c))
        for c in CAR_COLOURS
    ] + [
        ExpressionRule('vehicle driving on the road', 'relation',
                       VEHICLE_KINDS, _attr('on_road')),
        ExpressionRule('light-duty vehicle driving on the road', 'relation',
                       _LIGHT, _attr('on_road')),
        ExpressionRule('car on the road', 'relation', ('car', ),
                       _attr('on_road')),
        ExpressionRule('car in the parking area', 'relation', ('car', ),
                       _attr('in_parking')),
        ExpressionRule('van in the parking area', 'relation', ('van', ),
                       _attr('in_parking')),
        ExpressionRule('vehicle in the parking area', 'relation',
                       VEHICLE_KINDS, _attr('in_parking')),
        ExpressionRule('building along the road', 'relation', ('building', ),
                       _attr('along_road')),
        ExpressionRule('tree near the building', 'relation', ('tree', ),
                       _attr('near_building')),
        ExpressionRule('tree along the road', 'relation', ('tree', ),
                       _attr('along_road')),
    ])

_CATEGORY_WEIGHT = {
    'low vegetation': .4,
    'impervious surface': .6,
    'road': .8,
    'vehicle': 1.5,
    'car': 1.5,
    'van': 1.2,
    'truck': 1.2,
    'bus': 1.2,
    'trailer': 1.2,
}


@dataclass
class Expression:
    """An expression chosen for a scene.

    Attributes:
        text (str): The expression.
        kind (str): ``'category'``, ``'attribute'`` or ``'relation'``.
        category (str): The class it names.
        ids (tuple[int]): The referred objects.
        category_ids (tuple[int]): Every visible object of ``category``.
        strict (bool): Whether ``ids`` is a strict subset of
            ``category_ids`` (the words beyond the class matter).
    """
    text: str
    kind: str
    category: str
    ids: Tuple[int, ...]
    category_ids: Tuple[int, ...]

    @property
    def strict(self) -> bool:
        return set(self.ids) < set(self.category_ids)


def candidate_expressions(scene: Scene) -> List[Expression]:
    """Every grammar expression with a non-empty target on ``scene``.

    Expressions selecting the same objects are merged: the bare category
    is kept over a longer phrase that says nothing more on this image.
    """
    by_target = {}
    for rule in RULES:
        ids = tuple(rule.select(scene))
        if not ids:
            continue
        cat = rule.category
        expr = Expression(rule.text, rule.kind, cat, ids,
                          tuple(scene.ids_of(cat)))
        key = frozenset(ids)
        kept = by_target.get(key)
        if kept is None or (kept.kind != 'category'
                            and expr.kind == 'category'):
            by_target[key] = expr
    return list(by_target.values())


def choose_expressions(scene: Scene, rng: np.random.Generator,
                       min_expressions: int = 2,
                       max_expressions: int = 5) -> List[Expression]:
    """Choose the expressions (samples) of one image.

    Args:
        scene (Scene): The scene.
        rng (np.random.Generator): Random generator.
        min_expressions (int): Fewest expressions per image (fewer when the
            scene offers fewer distinct targets). Defaults to 2.
        max_expressions (int): Most expressions per image. Defaults to 5.

    Returns:
        list[Expression]: Expressions with pairwise different targets.
    """
    cands = candidate_expressions(scene)
    if not cands:
        return []
    weights = np.array([
        3. if c.kind != 'category' and c.strict else
        _CATEGORY_WEIGHT.get(c.text, 1.) if c.kind == 'category' else 1.
        for c in cands
    ])
    k = int(rng.integers(min_expressions, max_expressions + 1))
    k = min(k, len(cands))
    order = rng.choice(
        len(cands), size=k, replace=False, p=weights / weights.sum())
    chosen = [cands[i] for i in order]
    # pair a strict phrase with its bare category now and then: the same
    # image, the same class, different masks
    by_text = {c.text: c for c in cands}
    for expr in list(chosen):
        if len(chosen) >= max_expressions:
            break
        bare = by_text.get(expr.category)
        if expr.strict and bare is not None and bare not in chosen and \
                rng.random() < .5:
            chosen.append(bare)
    return chosen
