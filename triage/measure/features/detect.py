"""Lesion detections: where the pustules, bleeding points, papules, red dots, crusts, bruises and
dark macules are, from the shared maps (triage.measure.features.maps.Measurements, which caches
each detection so that the features count it and the report's overlay draws the same one).

Each function takes the measurements `m` and returns centroids (n, 2) of (x, y) or a bool mask;
the formulas and references are in the docstrings of the features that count them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import config
from ..regions import disk, elongation_solidity, kept_components, sized_components


def smooth_half(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of sigma px computed at half size: 2x2 area average (itself a blur of
    variance 1/4 px^2 at half size), a Gaussian of sigma' = sqrt(sigma^2 - 1) / 2 there, and
    bilinear enlargement. For sigma = 5 on a photo's Lab the mean difference from the full-size
    blur is 0.001 L* (at most 0.3 at sharp edges), at a tenth of the cost."""
    h, w = img.shape[:2]
    half = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(half, (0, 0), math.sqrt(sigma**2 - 1.0) / 2), (w, h), interpolation=cv2.INTER_LINEAR)


def macule_shaped(blob: np.ndarray) -> bool:
    """Compact as a macule is (circumscribed): elongation <= MACULE_MAX_ELONGATION and solidity
    >= MACULE_MIN_SOLIDITY (regions.elongation_solidity)."""
    elongation, solidity = elongation_solidity(blob)
    return elongation <= config.MACULE_MAX_ELONGATION and solidity >= config.MACULE_MIN_SOLIDITY


def macule_regions(m) -> tuple[np.ndarray, int]:
    """Dark regions, no redder than the skin around them, of at least MACULE_MIN_AREA px (PIH
    often lies inside a red treated area: its redness is the area's, not its own), compact
    as a macule is (macule_shaped): (mask, number of regions)."""
    dark = (m.L_loc < -config.MACULE_DELTA_L) & (m.a_loc < config.MACULE_MAX_DELTA_A) & m.core
    dark = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, disk(2))
    return kept_components(dark, config.MACULE_MIN_AREA, macule_shaped)


def small_red_dots(m) -> np.ndarray:
    """Centroids (x, y) of small red dots: compact components of a_loc > DOT_DELTA_A with
    area in DOT_AREA, at most DOT_MAX_ASPECT elongated, peaking above DOT_PEAK_DELTA_A
    (fragments of a red region's rim are neither compact nor peaked)."""
    red = (m.a_loc > config.DOT_DELTA_A) & m.core
    labels, stats, cents, ids = sized_components(red, *config.DOT_AREA)
    if len(ids) == 0:
        return cents
    peak = np.zeros(labels.max() + 1, np.float32)
    np.maximum.at(peak, labels[red], m.a_loc[red])
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    compact = np.maximum(w, h) <= config.DOT_MAX_ASPECT * np.minimum(w, h)
    return cents[compact & (peak[ids] >= config.DOT_PEAK_DELTA_A)]


def spot_and_ring(m, labels, stats, ids, inner: int, outer: int) -> tuple[np.ndarray, np.ndarray]:
    """Median Lab of each listed component and of the skin around it, inner..outer px outside
    it: arrays (n, 3); the ring's row is NaN when no skin surrounds the spot."""
    spot, ring = np.full((len(ids), 3), np.nan, np.float32), np.full((len(ids), 3), np.nan, np.float32)
    near, far = np.ones((2 * inner + 1,) * 2, np.uint8), np.ones((2 * outer + 1,) * 2, np.uint8)
    pad = outer + 2
    for n, ((x, y, w, h, _area), i) in enumerate(zip(stats, ids)):
        box = np.s_[max(0, y - pad): y + h + pad, max(0, x - pad): x + w + pad]
        blob = (labels[box] == i).astype(np.uint8)
        around = cv2.dilate(blob, far).astype(bool) & ~cv2.dilate(blob, near).astype(bool) & m.skin[box]
        lab = m.lab[box]
        spot[n] = np.median(lab[blob.astype(bool)], axis=0)
        if around.any():
            ring[n] = np.median(lab[around], axis=0)
    return spot, ring


def pustules(m) -> np.ndarray:
    """Centroids (x, y) of pustule-like spots (see the feature pustule_count)."""
    cand = (m.L_loc > config.PUSTULE_DELTA_L) & (m.lab[..., 2] > config.PUSTULE_MIN_B_RATIO * m.reference[2]) & m.core
    rmin, rmax = config.PUSTULE_RADIUS
    labels, stats, cents, ids = sized_components(cand, int(math.pi * rmin**2), int(math.pi * rmax**2))
    top, ring = spot_and_ring(m, labels, stats, ids, 2, 6)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        halo = ring[:, 1] - m.reference[1] > config.PUSTULE_HALO_DELTA_A
        found = halo & (top[:, 0] - ring[:, 0] > config.PUSTULE_RING_DELTA_L) & (top[:, 2] - ring[:, 2] > config.PUSTULE_RING_DELTA_B)
    return cents[found]


def crusts(m) -> np.ndarray:
    """Mask of yellow crust-like regions (see the feature crust_area_fraction)."""
    hue, chroma = m.hue_chroma
    c_ref = math.hypot(m.reference[1], m.reference[2])
    cand = (hue >= config.CRUST_HUE_DEG[0]) & (hue <= config.CRUST_HUE_DEG[1])
    cand &= (chroma - c_ref > config.CRUST_DELTA_CHROMA) & m.core
    return kept_components(cand, config.CRUST_MIN_AREA)[0]


def bleeding_spots(m) -> np.ndarray:
    """Centroids (x, y) of pinpoint bleeding spots (see the feature bleeding_spot_count)."""
    dark_red = (m.L_loc < config.BLEED_DELTA_L) & (m.a_loc > config.BLEED_DELTA_A)
    cand = (dark_red | (m.a_loc > config.BLEED_STRONG_DELTA_A)) & m.core
    labels, stats, cents, ids = sized_components(cand, 2, config.BLEED_MAX_AREA)
    spot, ring = spot_and_ring(m, labels, stats, ids, 1, 4)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        dL, da = spot[:, 0] - ring[:, 0], spot[:, 1] - ring[:, 1]
        found = ((dL < config.BLEED_RING_DELTA_L) & (da > config.BLEED_RING_DELTA_A)) | (da > config.BLEED_RING_STRONG_DELTA_A)
    return cents[found]


def papules(m) -> np.ndarray:
    """Centroids (x, y) of papule-like red bumps (see the feature papule_count)."""
    return sized_components((m.a_loc > config.PAPULE_DELTA_A) & m.core, *config.PAPULE_AREA)[2]


def bruises(m) -> np.ndarray:
    """Mask of bruise-like regions (see the feature bruise_area_fraction)."""
    d = smooth_half(m.lab, 5.0) - m.reference
    dL, da, db = d[..., 0], d[..., 1], d[..., 2]
    k = max(float(m.reference[0]), 1.0) / 65.0
    cand = (dL < -config.BRUISE_DELTA_L * k) & (db < -config.BRUISE_DELTA_B * k) & (da > 2.0 * k) & (-dL > 1.2 * da) & m.core
    return kept_components(cand, config.BRUISE_MIN_AREA)[0]
