"""The feature registry: every feature is a documented unit (a name, a unit, a docstring with its
formula and a reference), registered by the `feature` decorator in the order of the modules that
define them (that order is the column order of results.csv and of a row's features)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .maps import Measurements


@dataclass(frozen=True)
class Feature:
    name: str
    unit: str
    func: Callable[["Measurements"], float]

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


REGISTRY: dict[str, Feature] = {}


def feature(name: str, unit: str):
    """Register a feature function under `name` with its unit."""

    def register(func):
        REGISTRY[name] = Feature(name, unit, func)
        return func

    return register


def compute(linear: np.ndarray, lab: np.ndarray, skin: np.ndarray) -> dict[str, float | None]:
    """All registered features; None for every feature but skin_fraction when there is no skin."""
    return values(Measurements(linear, lab, skin))


def values(m: Measurements) -> dict[str, float | None]:
    """All registered features of prepared measurements (see `compute`)."""
    if m.n_skin < 100:
        return {name: (float(m.skin.mean()) if name == "skin_fraction" else None) for name in REGISTRY}
    out: dict[str, float | None] = {}
    for name, feat in REGISTRY.items():
        v = feat.func(m)
        out[name] = float(v) if v is not None and math.isfinite(v) else None
    return out
