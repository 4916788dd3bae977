"""One generated photo drawn from its spec: scene layout -> chromophores and lesions (reactions)
-> reflectance (optics) -> the skin's surface and light -> the whole frame -> the camera. Each
step draws from the same rng in this order, so a seed gives the same photo."""

from __future__ import annotations

import numpy as np

from . import capture, reactions, scene
from .optics import reflectance
from .spec import PhotoSpec


def render(spec: PhotoSpec, size: tuple[int, int], rng: np.random.Generator):
    """Draw the photo: returns (rgb uint8 (H, W, 3), skin mask bool, treated-region mask bool).

    Also fills spec.truth with measured ground truth (pigment_area, bruise_area, skin_fraction)."""
    lay = scene.layout(spec, size, rng)
    r = reactions.paint(spec, lay.skin_mask, size, rng)
    rho = reflectance(r.melanin, r.hemoglobin, r.deoxy)
    skin_lin, shade = scene.surface(spec, rho, r.treated, r.overlay, r.overlay_a, size, rng)
    img, on_chart = scene.compose(spec, lay, skin_lin, shade, size, rng)
    skin_mask = lay.skin_mask
    if on_chart is not None:
        skin_mask &= ~on_chart
    rgb8 = capture.capture(img, spec, rng)

    skin_px = max(int(skin_mask.sum()), 1)
    treated_px = max(int(r.treated.sum()), 1)
    spec.truth = {
        "skin_fraction": round(float(skin_mask.mean()), 4),
        "pigment_area": round(float(((r.pigment > 0.5) & r.treated).sum() / treated_px), 4),
        "bruise_area": round(float(((r.bruise > 0.5) & skin_mask).sum() / skin_px), 4),
    }
    return rgb8, skin_mask, r.treated
