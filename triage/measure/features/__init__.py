"""Features: pure functions of a normalised photo and its skin mask, discovered through a registry.

Every feature is measured against the same person's untreated-looking skin in the same photo
(maps.Measurements: the reference, the local backgrounds, the lesion detections). Each has a
name, a unit and a docstring with its formula and a reference; `REGISTRY` lists them in a stable
order and `values` / `compute` return {name: finite float or None}.

Notation: L*, a*, b* float CIE Lab (D65); dL, da, db = Lab minus the reference; R, G linear RGB;
L_loc = L* minus its local mean over the skin (Gaussian, sigma LOCAL_SIGMA, normalised
convolution), a_loc likewise with sigma DOT_SIGMA; |S| = skin pixels; lesions are looked for in
the skin's interior S' (S eroded by LESION_EDGE_MARGIN px: colour bleeds across the outline); all
pixel sizes at the working resolution (config.WORK_LONG_SIDE). Medians and percentiles "over S"
are taken on an even sample of at most config.STATS_MAX_PIXELS skin pixels (regions.sample_index;
standard error ~0.5% of the spread); counts and areas use every pixel.

Modules: maps (shared maps), detect (lesion detections), registry; the features by domain in
registry order: context (skin tone, skin share), redness, pigment, lesions, texture.
"""

from __future__ import annotations

# imported for their registrations, in this order (the order of a row's features)
from . import context, redness, pigment, lesions, texture  # noqa: F401,E401  isort: skip
from .maps import Measurements
from .registry import REGISTRY, Feature, compute, feature, values

FEATURE_NAMES: tuple[str, ...] = tuple(REGISTRY)

__all__ = ["FEATURE_NAMES", "REGISTRY", "Feature", "Measurements", "compute", "feature", "values"]
