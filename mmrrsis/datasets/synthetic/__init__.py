"""Generated aerial referring-segmentation data, in the official layouts.

Neither RefSegRS nor RRSIS-D can be downloaded on every machine, so tests
and demos run on data generated here: aerial-looking scenes with exact
instance maps (:mod:`.scene`), RefSegRS-style expressions whose targets are
every object they describe (:mod:`.expressions`), written as RefSegRS or in
the refer format (:mod:`.writers`).

- :func:`make_synthetic_refsegrs` (CLI
  ``tools/dataset_converters/make_synthetic_refsegrs.py``);
- :func:`make_synthetic_refer` (CLI
  ``tools/dataset_converters/make_synthetic_refer.py``; RefCOCO's layout
  and splits with ``dataset='refcoco'``);
- :func:`make_synthetic_grefer`: a generalized set (no-target and
  multi-target expressions) in gRefCOCO's schema (the same CLI with
  ``--dataset grefcoco``).
"""
from .expressions import (
    RULES,
    Expression,
    ExpressionRule,
    candidate_expressions,
    choose_expressions,
)
from .generalized import make_synthetic_grefer, no_target_rules
from .scene import (
    CAR_COLOURS,
    VEHICLE_KINDS,
    Scene,
    SceneObject,
    generate_scene,
)
from .writers import (
    META_FILE,
    assign_splits,
    make_synthetic_refer,
    make_synthetic_refsegrs,
    mask_to_polygons,
    mask_to_rle,
)

__all__ = [
    'RULES', 'Expression', 'ExpressionRule', 'candidate_expressions',
    'choose_expressions', 'CAR_COLOURS', 'VEHICLE_KINDS', 'Scene',
    'SceneObject', 'generate_scene', 'META_FILE', 'assign_splits',
    'make_synthetic_refer', 'make_synthetic_refsegrs', 'mask_to_polygons',
    'mask_to_rle', 'make_synthetic_grefer', 'no_target_rules'
]
